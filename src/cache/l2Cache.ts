import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../logger.js';
import { buildCacheKey, type GenerationScope, type KeySpace } from './cacheKey.js';
import type { CacheMetrics } from './cacheMetrics.js';
import type { GuardedStore } from './guardedStore.js';
import type { Sealer } from './sealer.js';
import { createSingleFlight, type SingleFlight } from './singleFlight.js';
import { writeToL2, type L2Write } from './writeToL2.js';

// Control values (the epoch and generations) guard entries and outlive any entry they guard.
// When one expires or is evicted, the entries it guarded become unreadable.
const CONTROL_POLICY = { cacheClass: 'reference', maxAgeSeconds: 30 * 24 * 3600 } as const;
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
 * racing reader can never overwrite a writer's.
 */
export interface L2Cache {
  readonly space: KeySpace;
  readonly singleFlight: SingleFlight;
  /** record/study id → patient id, learnt from every load; a record never changes patient. */
  readonly patientOf: LRUCache<string, string>;
  readonly metrics: CacheMetrics;
  forRequest(tenantId: string): RequestCache;
  /**
   * Makes every entry under these scopes unreadable, trying a few times. When L2 still cannot
   * be told, it is marked untrusted and flushed whole (by a background retry, or by the next
   * read) before anything in it is served again.
   *
   * @returns false when the invalidation could not be delivered.
   */
  invalidate(tenantId: string, scopes: ReadonlyArray<GenerationScope>): Promise<boolean>;
  /** Logically flushes all of L2 (a new epoch). */
  flushAll(): Promise<boolean>;
  /** Resolves to true when L2 can be trusted, flushing it first after an outage. */
  ensureTrusted(): Promise<boolean>;
  readonly store: GuardedStore;
  readonly sealer: Sealer;
  close(): Promise<void>;
}

/** One read of an entry: its key and the scope it must be stamped with. */
export interface EntryRead {
  readonly key: string;
  readonly scope: GenerationScope;
}

export interface EntryWrite extends EntryRead {
  readonly value: unknown;
  readonly policy: L2Write['policy'];
}

/**
 * A request's view of L2. It reads each control value (epoch, generations) at most once per
 * request, in the same round trip as the entries that need it.
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
  /** Writes entries whose scope this request has read (at most two round trips, one usually). */
  write(entries: ReadonlyArray<EntryWrite>): Promise<void>;
  /** Forgets the generations of these scopes, so the request reads them again after its own write. */
  forget(scopes: ReadonlyArray<GenerationScope>): void;
}

export function createL2Cache(deps: {
  readonly store: GuardedStore;
  readonly sealer: Sealer;
  readonly space: KeySpace;
  readonly metrics: CacheMetrics;
  readonly logger: Logger;
}): L2Cache {
  const { store, sealer, space, metrics, logger } = deps;
  const epochKey = buildCacheKey(space, { kind: 'epoch' });
  let flushing: Promise<boolean> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;

  const flushAll = async (): Promise<boolean> => {
    const ok = await writeToL2(store, sealer, [
      { key: epochKey, plaintext: freshToken(), policy: CONTROL_POLICY },
    ]);
    if (ok) {
      metrics.epochBumps.inc();
      logger.warn('L2 flushed logically: new epoch');
    }
    return ok;
  };

  const cache: L2Cache = {
    space,
    store,
    sealer,
    metrics,
    singleFlight: createSingleFlight(),
    patientOf: new LRUCache({ max: 200_000 }),
    forRequest: (tenantId) => createRequestCache(cache, sealer, tenantId, epochKey),
    invalidate: async (tenantId, scopes) => {
      for (let attempt = 1; attempt <= INVALIDATION_ATTEMPTS; attempt++) {
        const writes = scopes.map((scope) => ({
          key: generationKey(space, tenantId, scope),
          plaintext: freshToken(),
          policy: CONTROL_POLICY,
        }));
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
    close: () => {
      if (retryTimer !== undefined) clearInterval(retryTimer);
      return store.close();
    },
  };
  return cache;
}

function createRequestCache(
  cache: L2Cache,
  sealer: Sealer,
  tenantId: string,
  epochKey: string,
): RequestCache {
  const { store, space, metrics } = cache;
  const tenantKey = generationKey(space, tenantId, { kind: 'tenant' });
  // Control values as this request read them: a string, null when absent, or not yet read.
  const control = new Map<string, string | null>();
  // Creations under way, so that two writes of one request never race to create one value.
  const creating = new Map<string, Promise<void>>();

  const stampOf = (scope: GenerationScope): string | undefined => {
    const epoch = control.get(epochKey);
    const tenant = control.get(tenantKey);
    const generation = control.get(generationKey(space, tenantId, scope));
    if (!epoch || !tenant || !generation) return undefined;
    return `${epoch}.${tenant}.${generation}`;
  };

  const open = (key: string, sealed: string | undefined): string | undefined => {
    if (sealed === undefined) return undefined;
    const plaintext = sealer.open(key, sealed);
    if (plaintext === undefined) metrics.unsealFailures.inc();
    return plaintext;
  };

  const readNow = async (
    entries: ReadonlyArray<EntryRead>,
    alsoScopes: ReadonlyArray<GenerationScope>,
  ): Promise<unknown[]> => {
    if (entries.length === 0 || !(await cache.ensureTrusted())) {
      return entries.map(() => undefined);
    }
    const scopes = [...entries.map((e) => e.scope), ...alsoScopes];
    const controlKeys = [
      epochKey,
      tenantKey,
      ...scopes.map((scope) => generationKey(space, tenantId, scope)),
    ];
    const wantedControl = [...new Set(controlKeys)].filter((key) => !control.has(key));
    const keys = [...wantedControl, ...entries.map((e) => e.key)];
    const values = await store.getMany(keys);
    if (values === undefined) return entries.map(() => undefined);
    wantedControl.forEach((key, i) => control.set(key, open(key, values[i]) ?? null));
    return entries.map((entry, i) => {
      const plaintext = open(entry.key, values[wantedControl.length + i]);
      if (plaintext === undefined) return undefined;
      try {
        const { s: stamp, v: value } = JSON.parse(plaintext) as { s: string; v: unknown };
        return stamp === stampOf(entry.scope) ? value : undefined;
      } catch {
        // One malformed entry is a miss; it never fails the reads sharing its round trip.
        metrics.unsealFailures.inc();
        return undefined;
      }
    });
  };

  // Reads asked for in the same tick (the batches of one loader wave, across every loader)
  // share one round trip.
  let queued: Array<{
    readonly entries: ReadonlyArray<EntryRead>;
    readonly alsoScopes: ReadonlyArray<GenerationScope>;
    readonly settle: (values: unknown[] | Error) => void;
  }> = [];
  const readQueued = (): void => {
    const reads = queued;
    queued = [];
    readNow(
      reads.flatMap((r) => r.entries),
      reads.flatMap((r) => r.alsoScopes),
    ).then(
      (values) => {
        let offset = 0;
        for (const r of reads) {
          r.settle(values.slice(offset, offset + r.entries.length));
          offset += r.entries.length;
        }
      },
      (error: unknown) => {
        for (const r of reads) r.settle(error instanceof Error ? error : new Error(String(error)));
      },
    );
  };

  return {
    tenantId,
    stampOf,
    forget: (scopes) => {
      for (const scope of scopes) control.delete(generationKey(space, tenantId, scope));
    },
    read: (entries, alsoScopes = []) => {
      if (entries.length === 0) return Promise.resolve([]);
      return new Promise<unknown[]>((resolve, reject) => {
        queued.push({
          entries,
          alsoScopes,
          settle: (values) => {
            if (values instanceof Error) reject(values);
            else resolve(values);
          },
        });
        if (queued.length === 1) queueMicrotask(readQueued);
      });
    },
    write: async (entries) => {
      if (entries.length === 0 || store.untrusted) return;
      const keys = new Set([
        epochKey,
        tenantKey,
        ...entries.map((e) => generationKey(space, tenantId, e.scope)),
      ]);
      await Promise.all([...keys].flatMap((key) => creating.get(key) ?? []));
      // Control values this request found absent are created now, if still absent. A value
      // another process created meanwhile wins, and this request's entries under it go
      // unwritten: adopting it could stamp data read before an invalidation with a generation
      // made after it.
      const absent = [...keys].filter((key) => control.get(key) === null);
      if (absent.length > 0) {
        const tokens = absent.map(() => freshToken());
        const creation = writeToL2(
          store,
          sealer,
          absent.map((key, i) => ({ key, plaintext: tokens[i] as string, policy: CONTROL_POLICY })),
          { ifAbsent: true },
        ).then((created) => {
          absent.forEach((key, i) => {
            if (created?.[i] === true) control.set(key, tokens[i] as string);
            else control.delete(key);
            creating.delete(key);
          });
        });
        for (const key of absent) creating.set(key, creation);
        await creation;
      }
      const writes: L2Write[] = [];
      for (const entry of entries) {
        const stamp = stampOf(entry.scope);
        if (stamp === undefined) continue;
        writes.push({
          key: entry.key,
          plaintext: JSON.stringify({ s: stamp, v: entry.value }),
          policy: entry.policy,
        });
      }
      if (writes.length > 0) await writeToL2(store, sealer, writes);
    },
  };
}

function generationKey(space: KeySpace, tenantId: string, scope: GenerationScope): string {
  return buildCacheKey(space, { kind: 'generation', tenantId, scope });
}

function freshToken(): string {
  return randomBytes(12).toString('base64url');
}
