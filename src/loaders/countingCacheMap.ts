import type { CacheMetrics } from '../cache/cacheMetrics.js';
import type { LookupCounts } from './lookupTally.js';

/**
 * A DataLoader cache map that counts L1 hits and misses: DataLoader asks it once per `load`,
 * and a promise already there is a hit. Each lookup adds to the process's tally and to the
 * request's own counts of the type, both plain numbers.
 */
export function countingCacheMap<V>(
  metrics: CacheMetrics,
  type: string,
  request: LookupCounts = { hits: 0, misses: 0 },
): Map<string, Promise<V>> {
  const map = new Map<string, Promise<V>>();
  const get = map.get.bind(map);
  const tally = metrics.l1Tally(type);
  map.get = (key: string) => {
    const value = get(key);
    if (value === undefined) {
      tally.misses++;
      request.misses++;
    } else {
      tally.hits++;
      request.hits++;
    }
    return value;
  };
  return map;
}
