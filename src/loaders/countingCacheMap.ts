import type DataLoader from 'dataloader';
import type { CacheMetrics } from '../cache/cacheMetrics.js';
import type { LookupCounts } from './lookupTally.js';

/** A DataLoader cache map whose lookups are counted, and whose primes can go uncounted. */
export interface CountingCacheMap<V> extends Map<string, Promise<V>> {
  /** Runs `fn` with lookups uncounted: DataLoader's `prime` looks the key up before it sets. */
  uncounted<T>(fn: () => T): T;
}

/**
 * A DataLoader cache map that counts L1 hits and misses: DataLoader asks it once per `load`,
 * and a promise already there is a hit. Each lookup adds to the process's tally and to the
 * request's own counts of the type, both plain numbers.
 */
export function countingCacheMap<V>(
  metrics: CacheMetrics,
  type: string,
  request: LookupCounts = { hits: 0, misses: 0 },
): CountingCacheMap<V> {
  const map = new Map<string, Promise<V>>() as CountingCacheMap<V>;
  const get = map.get.bind(map);
  const tally = metrics.l1Tally(type);
  let counting = true;
  map.get = (key: string) => {
    const value = get(key);
    if (!counting) return value;
    if (value === undefined) {
      tally.misses++;
      request.misses++;
    } else {
      tally.hits++;
      request.hits++;
    }
    return value;
  };
  map.uncounted = <T>(fn: () => T): T => {
    counting = false;
    try {
      return fn();
    } finally {
      counting = true;
    }
  };
  return map;
}

/**
 * Makes `loader.prime` leave the counts alone: a row primed from a list is not a lookup, and
 * counting it as a miss would halve the L1 hit ratio of every type that lists prime.
 */
export function primeUncounted<K, V>(
  loader: DataLoader<K, V>,
  map: CountingCacheMap<V> | undefined,
): DataLoader<K, V> {
  if (map === undefined) return loader;
  const prime = loader.prime.bind(loader);
  loader.prime = (key, value) => map.uncounted(() => prime(key, value));
  return loader;
}
