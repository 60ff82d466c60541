import type { L2Cache } from '../cache/l2Cache.js';
import { hotSetKey, HOT_TYPES } from './hotSet.js';
import type { Warmer } from './warmer.js';
import type { WarmReport } from './warmPass.js';

/** `cacheStats`' answer: counts only, never an id or a value. */
export interface CacheStats {
  hitRates: Array<{
    layer: string;
    type: string;
    hits: number;
    misses: number;
    rate: number | null;
  }>;
  hotSet: Array<{ type: string; size: number }>;
  readonly l2MemoryBytes: number | null;
  readonly lastWarm:
    (Omit<WarmReport, 'entries'> & { entries: Array<{ type: string; count: number }> }) | null;
  readonly warmerLeaseHeld: boolean;
}

/**
 * Gathers the cache's figures for one tenant: this process's hit rates by layer and type (from
 * `caregraph_cache_requests_total`), the shared hot set's sizes, L2's memory and the last pass.
 * L2 that cannot be read leaves its figures null or empty.
 */
export async function collectCacheStats(
  l2: L2Cache,
  warmer: Warmer | undefined,
  tenantId: string,
): Promise<CacheStats> {
  const counts = new Map<string, { layer: string; type: string; hits: number; misses: number }>();
  for (const { labels, value } of (await l2.metrics.requests.get()).values) {
    const layer = String(labels.layer ?? '');
    const type = String(labels.type ?? '');
    const key = `${layer} ${type}`;
    const entry = counts.get(key) ?? { layer, type, hits: 0, misses: 0 };
    if (labels.result === 'hit') entry.hits += value;
    else entry.misses += value;
    counts.set(key, entry);
  }
  const hitRates = [...counts.values()]
    .sort((a, b) => (a.layer === b.layer ? (a.type < b.type ? -1 : 1) : a.layer < b.layer ? -1 : 1))
    .map((entry) => ({
      ...entry,
      rate: entry.hits + entry.misses === 0 ? null : entry.hits / (entry.hits + entry.misses),
    }));
  const warming = l2.store.warming;
  const [sizes, memory, report] = await Promise.all([
    warming?.hotSetSizes(HOT_TYPES.map((type) => hotSetKey(l2.space, tenantId, type))),
    warming?.usedMemoryBytes(),
    warmer?.lastReport(),
  ]);
  return {
    hitRates,
    hotSet: HOT_TYPES.map((type, i) => ({ type, size: sizes?.[i] ?? 0 })),
    l2MemoryBytes: memory ?? null,
    lastWarm:
      report === undefined
        ? null
        : {
            ...report,
            entries: Object.entries(report.entries).map(([type, count]) => ({ type, count })),
          },
    warmerLeaseHeld: warmer?.holding ?? false,
  };
}
