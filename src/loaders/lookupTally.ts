import type { CacheMetrics } from '../cache/cacheMetrics.js';

/** Hits and misses of one layer for one GraphQL type, as plain numbers. */
export interface LookupCounts {
  hits: number;
  misses: number;
}

/**
 * One HTTP request's cache lookups, by layer and GraphQL type (`Patient`, `[MedicalRecord]`),
 * for its request log line. Every operation of a batch adds to the same tally.
 */
export interface LookupTally {
  readonly l1: Map<string, LookupCounts>;
  readonly l2: Map<string, LookupCounts>;
}

export function createLookupTally(): LookupTally {
  return { l1: new Map(), l2: new Map() };
}

/**
 * The counts of one type in a layer of the tally, created at zero. L1 loaders fetch theirs
 * once, when the loader is made, so that a `load` adds to plain numbers and hashes nothing.
 */
export function countsOf(byType: Map<string, LookupCounts>, type: string): LookupCounts {
  let counts = byType.get(type);
  if (counts === undefined) {
    counts = { hits: 0, misses: 0 };
    byType.set(type, counts);
  }
  return counts;
}

/** The sum of a layer's counts over every type. */
export function totalOf(byType: ReadonlyMap<string, LookupCounts>): LookupCounts {
  const total = { hits: 0, misses: 0 };
  for (const counts of byType.values()) {
    total.hits += counts.hits;
    total.misses += counts.misses;
  }
  return total;
}

/**
 * Counts a batch's L2 lookups once for both readers: the process's metric
 * (`caregraph_cache_requests_total{layer="l2"}`) and, when given, its request's tally for the
 * log line.
 */
export function countL2Lookups(
  metrics: CacheMetrics,
  lookups: LookupTally | undefined,
  type: string,
  hits: number,
  misses: number,
): void {
  metrics.requests.inc({ layer: 'l2', type, result: 'hit' }, hits);
  metrics.requests.inc({ layer: 'l2', type, result: 'miss' }, misses);
  if (lookups === undefined) return;
  const counts = countsOf(lookups.l2, type);
  counts.hits += hits;
  counts.misses += misses;
}
