import { LRUCache } from 'lru-cache';
import type { Logger } from '../logger.js';
import { buildCacheKey, type GenerationScope, type KeySpace } from './cacheKey.js';
import type { CacheMetrics } from './cacheMetrics.js';
import {
  controlPolicyOf,
  createControlRepair,
  freshToken,
  generationKey,
  LONG_CONTROL_POLICY,
} from './controlValues.js';
import type { GuardedStore } from './guardedStore.js';
import { createInvalidationFloors, type InvalidationFloors } from './invalidationFloors.js';
import {
  createNearCache,
  DEFAULT_NEAR_CACHE,
  type NearCache,
  type NearCacheOptions,
} from './nearCache.js';
import { createRequestCache } from './requestCache.js';
import { memoizeOpen, type Sealer } from './sealer.js';
import { createSingleFlight, type SingleFlight } from './singleFlight.js';
import { writeToL2, type L2Write } from './writeToL2.js';
import type { UsageTracker } from '../warming/usageTracker.js';

const INVALIDATION_ATTEMPTS = 3;
const RETRY_DELAY_MS = 25;

/**
 * The process-wide side of L2: the store, the sealer, the key space, single-flight, and the
 * logical flush after an outage.
 *
 * How entries stay fresh: every entry is stamped with the epoch, its tenant's generation and
 * its scope's generation (a patient, the tenant's reference data, or its searches) as a request
 * read them *before* going to Postgres. A write replaces the generations it affects with new
 * random values, so every entry under them becomes unreadable at once, on every instance, in one
 * round trip; and a read that raced with the write stamps its late insert with the old
 * generation, which no later read accepts. Generations are only ever created "if absent", so a
 * racing reader can never overwrite a writer's. A control value that is present but fails to
 * open is overwritten with a fresh one (an invalidation), which the request that found it never
 * adopts: it writes no entries, and later requests read the new value like any other.
 */
export interface L2Cache {
  readonly space: KeySpace;
  readonly singleFlight: SingleFlight;
  /** record/study id → patient id, learnt from every load; a record never changes patient. */
  readonly patientOf: LRUCache<string, string>;
  readonly metrics: CacheMetrics;
  /** Decoded entries kept in this process, served only under the stamps a request read. */
  readonly near: NearCache;
  forRequest(tenantId: string, options?: RequestCacheOptions): RequestCache;
  /** Counts lookups for the warmer; undefined when warming is off. */
  readonly usage: UsageTracker | undefined;
  /** The latest committed invalidation of each scope this process knows of. */
  readonly floors: InvalidationFloors;
  /**
   * After a write committed as invalidation `seq` (see `invalidationFeed.ts`): this process
   * stops serving the scopes at once (`observe`), then makes every entry under them unreadable
   * in L2 with generations at `seq`, trying a few times. When L2 still cannot be told, it is
   * marked untrusted and flushed whole (by a background retry, or by the next read) before
   * anything in it is served again; other processes heard of the write through Postgres.
   *
   * @param seq the write's invalidation sequence number; 0 for none (tests, the bench).
   * @returns false when the invalidation could not be delivered.
   */
  invalidate(
    tenantId: string,
    scopes: ReadonlyArray<GenerationScope>,
    seq?: number,
  ): Promise<boolean>;
  /**
   * A committed invalidation heard of through Postgres (or made here): generations of these
   * scopes older than `seq` are no longer served from, and near copies under them go.
   */
  observe(tenantId: string, scopes: ReadonlyArray<GenerationScope>, seq: number): void;
  /**
   * Whether this process may serve from L2 now: it has lately proved that it hears every
   * committed invalidation (the Postgres feed, `InvalidationFeed.fresh`). Always, until a
   * feed is attached (the embedded database has none: every write is this process's own).
   */
  fresh(): boolean;
  /** Attaches the feed whose freshness `fresh` reports. */
  useFreshness(check: () => boolean): void;
  /** Logically flushes all of L2 (a new epoch). */
  flushAll(): Promise<boolean>;
  /** Resolves to true when L2 can be trusted, flushing it first after an outage. */
  ensureTrusted(): Promise<boolean>;
  readonly store: GuardedStore;
  readonly sealer: Sealer;
  /** The sealer for control values, remembering the envelopes it opened (memoizeOpen). */
  readonly controlSealer: Sealer;
  close(): Promise<void>;
}

/** How the warmer reads L2, unlike a request. */
export interface RequestCacheOptions {
  /** False: no near copies served or kept (the warmer must see what L2 itself holds). */
  readonly near?: boolean;
  /**
   * An entry with less than about this long left to live reads as a miss, so that its load
   * writes it again (refresh-ahead). Each entry's threshold is drawn between half and one and a
   * half times this, so that entries written together do not all expire together again.
   */
  readonly refreshAheadMs?: number;
}

/** One read of an entry: its key and the scope it must be stamped with. */
export interface EntryRead {
  readonly key: string;
  readonly scope: GenerationScope;
  /** The metric label of the entry (`Patient`, `[MedicalRecord]`), for near-cache hits. */
  readonly type?: string;
}

export interface EntryWrite extends EntryRead {
  readonly value: unknown;
  readonly policy: L2Write['policy'];
}

/**
 * A request's view of L2. It reads each control value (epoch, generations) at most once per
 * request, in the same round trip as the entries that need it. An entry whose decoded copy is
 * in the near cache under the stamp the request read is served from it without being fetched;
 * it counts as an L2 hit like any other (it is one: its stamp was read from L2 this request),
 * and as a hit of layer `near` too.
 */
export interface RequestCache {
  readonly tenantId: string;
  /**
   * One round trip, shared by every read the request asks for in the same tick. `alsoScopes` names scopes whose generations the caller will need to
   * write entries of after going to Postgres (the doctors of a care-team list, say): a
   * generation must be read before the data it stamps.
   *
   * @returns the valid values, in order; undefined for misses.
   */
  read(
    entries: ReadonlyArray<EntryRead>,
    alsoScopes?: ReadonlyArray<GenerationScope>,
  ): Promise<unknown[]>;
  /** The stamp current entries of a scope carry, if this request knows it. */
  stampOf(scope: GenerationScope): string | undefined;
  /**
   * Writes entries whose scope this request has read (at most two round trips, one usually).
   *
   * @returns false when L2 refused the write (nothing is thrown: a failed write is a miss later).
   */
  write(entries: ReadonlyArray<EntryWrite>): Promise<boolean>;
  /** Forgets the generations of these scopes, so the request reads them again after its own write. */
  forget(scopes: ReadonlyArray<GenerationScope>): void;
  /** Whether this request served anything from L2 (or a near copy). */
  readonly servedFromL2: boolean;
  /** Whether an invalidation heard since superseded a generation this request read. */
  superseded(): boolean;
}

export function createL2Cache(deps: {
  readonly store: GuardedStore;
  readonly sealer: Sealer;
  readonly space: KeySpace;
  readonly metrics: CacheMetrics;
  readonly logger: Logger;
  /** The near cache's bounds; the defaults when absent. */
  readonly near?: NearCacheOptions;
  /** Counts lookups for the warmer, when warming is on. */
  readonly usage?: UsageTracker;
}): L2Cache {
  const { store, sealer, space, metrics, logger } = deps;
  const near = createNearCache(deps.near ?? DEFAULT_NEAR_CACHE);
  const epochKey = buildCacheKey(space, { kind: 'epoch' });
  const repair = createControlRepair({ store, sealer, metrics, logger });
  const floors = createInvalidationFloors();
  let flushing: Promise<boolean> | undefined;
  let freshness: () => boolean = () => true;
  let retryTimer: NodeJS.Timeout | undefined;

  const flushAll = async (): Promise<boolean> => {
    const ok = await writeToL2(store, sealer, [
      { key: epochKey, plaintext: freshToken(), policy: LONG_CONTROL_POLICY },
    ]);
    if (ok) {
      near.clear();
      metrics.epochBumps.inc();
      logger.warn('L2 flushed logically: new epoch');
    }
    return ok;
  };

  const cache: L2Cache = {
    space,
    store,
    sealer,
    controlSealer: memoizeOpen(sealer),
    metrics,
    near,
    singleFlight: createSingleFlight(),
    patientOf: new LRUCache({ max: 200_000 }),
    forRequest: (tenantId, options = {}) =>
      createRequestCache(cache, sealer, repair, tenantId, epochKey, options),
    usage: deps.usage,
    floors,
    observe: (tenantId, scopes, seq) => {
      const risen: string[] = [];
      for (const scope of scopes) {
        const key = generationKey(space, tenantId, scope);
        const longLived = scope.kind === 'reference' || scope.kind === 'tenant';
        if (seq > 0 && floors.raise(key, seq, longLived)) risen.push(key);
      }
      near.drop(risen);
    },
    invalidate: async (tenantId, scopes, seq = 0) => {
      cache.observe(tenantId, scopes, seq);
      // This process drops its copies at once, whatever L2 says; the new generations then make
      // every other process's copies unservable, and dropped when it reads them.
      near.drop(scopes.map((scope) => generationKey(space, tenantId, scope)));
      for (let attempt = 1; attempt <= INVALIDATION_ATTEMPTS; attempt++) {
        const writes = scopes.map((scope) => {
          const key = generationKey(space, tenantId, scope);
          // At the floor: a later write another process committed meanwhile may have raised it.
          return {
            key,
            plaintext: freshToken(floors.floorOf(key)),
            policy: controlPolicyOf(scope),
          };
        });
        if (await writeToL2(store, sealer, writes)) return true;
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * attempt));
      }
      // Entries the invalidation should have hidden may still be readable: nothing is read
      // from L2 until it has been flushed, which a timer keeps trying without waiting for traffic.
      store.markUntrusted();
      logger.error(
        { scopes: scopes.length },
        'an invalidation could not reach L2; flushing it before reuse',
      );
      retryTimer ??= setInterval(() => {
        void cache.ensureTrusted().then((trusted) => {
          if (trusted && retryTimer !== undefined) {
            clearInterval(retryTimer);
            retryTimer = undefined;
          }
        });
      }, RETRY_DELAY_MS * 20).unref();
      return false;
    },
    fresh: () => freshness(),
    useFreshness: (check) => {
      freshness = check;
    },
    flushAll,
    ensureTrusted: async () => {
      if (!store.untrusted) return true;
      if (store.open) return false;
      // One flush at a time; concurrent requests wait for it rather than each bumping the epoch.
      flushing ??= flushAll().finally(() => {
        flushing = undefined;
      });
      const ok = await flushing;
      if (ok) store.markTrusted();
      return ok;
    },
    close: async () => {
      if (retryTimer !== undefined) clearInterval(retryTimer);
      await repair.settled();
      near.clear();
      await store.close();
    },
  };
  return cache;
}
