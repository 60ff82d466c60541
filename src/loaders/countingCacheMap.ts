import type { CacheMetrics } from '../cache/cacheMetrics.js';

/**
 * A DataLoader cache map that counts L1 hits and misses: DataLoader asks it once per `load`,
 * and a promise already there is a hit.
 */
export function countingCacheMap<V>(metrics: CacheMetrics, type: string): Map<string, Promise<V>> {
  const map = new Map<string, Promise<V>>();
  const get = map.get.bind(map);
  map.get = (key: string) => {
    const value = get(key);
    metrics.requests.inc({ layer: 'l1', type, result: value === undefined ? 'miss' : 'hit' });
    return value;
  };
  return map;
}
