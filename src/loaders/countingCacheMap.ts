import type { CacheMetrics } from '../cache/cacheMetrics.js';

/**
 * A DataLoader cache map that counts L1 hits and misses: DataLoader asks it once per `load`,
 * and a promise already there is a hit.
 */
export function countingCacheMap<V>(metrics: CacheMetrics, type: string): Map<string, Promise<V>> {
  const map = new Map<string, Promise<V>>();
  const get = map.get.bind(map);
  const tally = metrics.l1Tally(type);
  map.get = (key: string) => {
    const value = get(key);
    if (value === undefined) tally.misses++;
    else tally.hits++;
    return value;
  };
  return map;
}
