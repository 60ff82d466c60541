import { createFrequencySketch, type FrequencySketch, type HotId } from './frequencySketch.js';

/**
 * What the warmer can load by id: the entity types, and the lists of a relation by their
 * owner's id (`Patient.records`).
 */
export type TrackedType = string;

/**
 * Counts L2 lookups per tenant and type in memory (SPEC §5). The hot path only counts: nothing
 * here talks to Redis; `drain` hands the top-k to a timer that merges it into the shared hot set.
 */
export interface UsageTracker {
  /**
   * One lookup of each id. `owners[i]` is the patient of a record or study (its key's slot),
   * which the warmer needs to read its generation before Postgres.
   */
  track(
    tenantId: string,
    type: TrackedType,
    ids: ReadonlyArray<string>,
    owners?: ReadonlyArray<string>,
  ): void;
  /** The top-k of every (tenant, type) counted since start, highest first. */
  snapshot(): Array<{ tenantId: string; type: TrackedType; hot: HotId[] }>;
  /** The top-k's growth since the last drain, per (tenant, type): what a flush sends. */
  drain(): Array<{ tenantId: string; type: TrackedType; hot: HotId[] }>;
  /** Ids in this process's top-k, per tenant and type (counts only). */
  sizes(tenantId: string): Map<TrackedType, number>;
}

export interface UsageTrackerOptions {
  /** How many ids each (tenant, type) top-k keeps. */
  readonly topK: number;
  /** Whether lookups of this tenant and type are counted at all (what the warmer may warm). */
  readonly counts: (tenantId: string, type: TrackedType) => boolean;
  /** A bound on the (tenant, type) pairs tracked, whatever tenants the tokens name. */
  readonly maxSketches?: number;
}

export function createUsageTracker(options: UsageTrackerOptions): UsageTracker {
  const sketches = new Map<string, Map<TrackedType, FrequencySketch | null>>();
  const maxSketches = options.maxSketches ?? 1000;
  let count = 0;

  const sketchOf = (tenantId: string, type: TrackedType): FrequencySketch | null => {
    let byType = sketches.get(tenantId);
    if (byType === undefined) {
      byType = new Map();
      sketches.set(tenantId, byType);
    }
    let sketch = byType.get(type);
    if (sketch === undefined) {
      // null remembers "not counted", so the decision is made once per pair.
      sketch =
        options.counts(tenantId, type) && count < maxSketches
          ? createFrequencySketch({ topK: options.topK })
          : null;
      if (sketch !== null) count++;
      byType.set(type, sketch);
    }
    return sketch;
  };

  return {
    track: (tenantId, type, ids, owners) => {
      if (ids.length === 0) return;
      const sketch = sketchOf(tenantId, type);
      if (sketch === null) return;
      for (let i = 0; i < ids.length; i++) sketch.add(ids[i] as string, owners?.[i]);
    },
    snapshot: () => {
      const out: Array<{ tenantId: string; type: TrackedType; hot: HotId[] }> = [];
      for (const [tenantId, byType] of sketches) {
        for (const [type, sketch] of byType) {
          if (sketch !== null && sketch.size > 0) out.push({ tenantId, type, hot: sketch.top() });
        }
      }
      return out;
    },
    drain: () => {
      const out: Array<{ tenantId: string; type: TrackedType; hot: HotId[] }> = [];
      for (const [tenantId, byType] of sketches) {
        for (const [type, sketch] of byType) {
          const hot = sketch === null ? [] : sketch.drain();
          if (hot.length > 0) out.push({ tenantId, type, hot });
        }
      }
      return out;
    },
    sizes: (tenantId) => {
      const out = new Map<TrackedType, number>();
      for (const [type, sketch] of sketches.get(tenantId) ?? []) {
        if (sketch !== null) out.set(type, sketch.size);
      }
      return out;
    },
  };
}
