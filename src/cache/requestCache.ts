import { PHI_MAX_AGE_CAP_SECONDS } from '../policy/cachePolicy.js';
import type { GenerationScope } from './cacheKey.js';
import {
  controlPolicyOf,
  freshToken,
  LONG_CONTROL_POLICY,
  PATIENT_CONTROL_POLICY,
  type ControlPolicy,
  type ControlRepair,
} from './controlValues.js';
import { EXPIRED, OTHER_STAMP, readEntryFrame } from './entryFrame.js';
import type { EntryRead, L2Cache, RequestCache, RequestCacheOptions } from './l2Cache.js';
import type { NearCopy } from './nearCache.js';
import { createRequestControl } from './requestControl.js';
import type { Sealer } from './sealer.js';
import { writeToL2, type L2Touch, type L2Write } from './writeToL2.js';

// A control value this request saw absent is created "if absent" only this soon after.
const CREATE_WINDOW_MS = (PHI_MAX_AGE_CAP_SECONDS * 1000) / 2;

/**
 * A request's view of L2 (see `RequestCache`), over the process-wide cache.
 *
 * @returns a view that reads each control value at most once and stamps entries with them.
 */
export function createRequestCache(
  cache: L2Cache,
  sealer: Sealer,
  repair: ControlRepair,
  tenantId: string,
  epochKey: string,
  options: RequestCacheOptions = {},
): RequestCache {
  const refreshAheadMs = options.refreshAheadMs ?? 0;
  const { store, space, metrics, near } = cache;
  const control = createRequestControl({
    space,
    tenantId,
    epochKey,
    sealer,
    controlSealer: cache.controlSealer,
    metrics,
    near,
    repair,
    floors: cache.floors,
  });
  const { tenantKey, generationKeyOf, stampAt } = control;
  // Creations under way, so that two writes of one request never race to create one value.
  const creating = new Map<string, Promise<void>>();
  const stampOf = (scope: GenerationScope) => stampAt(generationKeyOf(scope));
  let servedFromL2 = false;

  /** An entry fetched from L2: served (and kept near) only under the stamp this request read. */
  const decode = (
    entry: EntryRead,
    scopeKey: string,
    sealed: string | undefined,
    nowMs: number,
    keepNear: boolean,
  ): unknown => {
    const plaintext = control.open(entry.key, sealed);
    const stamp = stampAt(scopeKey);
    if (plaintext === undefined || stamp === undefined) return undefined;
    const frame = readEntryFrame(plaintext, stamp, nowMs);
    if (frame === OTHER_STAMP || frame === EXPIRED) return undefined;
    if (
      refreshAheadMs > 0 &&
      frame !== undefined &&
      frame.writtenAtMs + frame.ttlMs - nowMs < refreshAheadMs * (0.5 + Math.random())
    ) {
      return undefined;
    }
    let value: unknown;
    try {
      if (frame === undefined) throw new Error('not an entry frame');
      value = JSON.parse(frame.json);
    } catch {
      // One malformed entry is a miss; it never fails the reads sharing its round trip.
      metrics.unsealFailures.inc();
      return undefined;
    }
    if (keepNear) {
      near.keep(entry.key, {
        value,
        stamp,
        tenantKey,
        scopeKey,
        tenantToken: control.token(tenantKey) ?? '',
        scopeToken: control.token(scopeKey) ?? '',
        writtenAtMs: frame.writtenAtMs,
        ttlMs: frame.ttlMs,
        jsonLength: frame.json.length,
      });
    }
    return value;
  };

  const readNow = async (
    entries: ReadonlyArray<EntryRead>,
    alsoScopes: ReadonlyArray<GenerationScope>,
  ): Promise<unknown[]> => {
    const misses = () => entries.map(() => undefined);
    if (entries.length === 0 || !(await cache.ensureTrusted())) return misses();
    // An instance that cannot prove it hears every invalidation serves nothing from L2.
    if (!cache.fresh()) return misses();
    // Near copies are served only while L2 itself is read: never with the breaker open.
    const useNear = near.enabled && !store.open && options.near !== false;
    const scopeKeys = entries.map((entry) => generationKeyOf(entry.scope));
    // Control values this request has not read yet, with their scope (undefined: the epoch).
    const wanted = new Map<string, GenerationScope | undefined>();
    const want = (key: string, scope: GenerationScope | undefined) => {
      if (!control.has(key) && !wanted.has(key)) wanted.set(key, scope);
    };
    want(epochKey, undefined);
    want(tenantKey, { kind: 'tenant' });
    entries.forEach((entry, i) => {
      want(scopeKeys[i] as string, entry.scope);
    });
    for (const scope of alsoScopes) want(generationKeyOf(scope), scope);

    // An entry with a near copy is not fetched: the copy is checked against the stamp this
    // request read, earlier or in this round trip. A copy under a stamp already known to differ
    // is stale, and the entry is fetched instead.
    const copies: Array<NearCopy | undefined> = [];
    const fetched: string[] = [];
    const fetchedAt: number[] = [];
    const stampKnown = !wanted.has(epochKey) && !wanted.has(tenantKey);
    entries.forEach((entry, i) => {
      const scopeKey = scopeKeys[i] as string;
      const copy = useNear ? near.get(entry.key) : undefined;
      if (copy !== undefined) {
        if (!stampKnown || wanted.has(scopeKey) || stampAt(scopeKey) === copy.stamp) {
          copies[i] = copy;
          return;
        }
        near.delete(entry.key);
      }
      fetchedAt[i] = fetched.length;
      fetched.push(entry.key);
    });

    const controlKeys = [...wanted.keys()];
    let values: Array<string | undefined> = [];
    if (controlKeys.length + fetched.length > 0) {
      const answer = await store.getMany([...controlKeys, ...fetched]);
      // L2 cannot be read: nothing is served, not even a near copy.
      if (answer === undefined) return misses();
      values = answer;
    }
    controlKeys.forEach((key, i) => {
      control.learn(key, values[i], wanted.get(key));
    });
    const nowMs = Date.now();
    const nearHits = new Map<string, number>();
    const results = entries.map((entry, i) => {
      const scopeKey = scopeKeys[i] as string;
      const copy = copies[i];
      if (copy === undefined) {
        const at = controlKeys.length + (fetchedAt[i] ?? 0);
        return decode(entry, scopeKey, values[at], nowMs, useNear);
      }
      if (copy.stamp !== stampAt(scopeKey)) {
        near.delete(entry.key);
        return undefined;
      }
      const label = entry.type ?? 'unlabelled';
      nearHits.set(label, (nearHits.get(label) ?? 0) + 1);
      return copy.value;
    });
    for (const [type, hits] of nearHits) {
      metrics.requests.inc({ layer: 'near', type, result: 'hit' }, hits);
    }
    if (!servedFromL2 && results.some((value) => value !== undefined)) servedFromL2 = true;
    return results;
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
    get servedFromL2() {
      return servedFromL2;
    },
    superseded: () => control.superseded(),
    stampOf,
    forget: (scopes) => {
      for (const scope of scopes) control.forget(generationKeyOf(scope));
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
      if (entries.length === 0) return true;
      if (store.untrusted) return false;
      const policies = new Map<string, ControlPolicy>([
        [epochKey, LONG_CONTROL_POLICY],
        [tenantKey, LONG_CONTROL_POLICY],
        ...entries.map((e) => [generationKeyOf(e.scope), controlPolicyOf(e.scope)] as const),
      ]);
      const keys = [...policies.keys()];
      await Promise.all(keys.flatMap((key) => creating.get(key) ?? []));
      // Control values this request found absent are created now, if still absent. A value
      // another process created meanwhile wins, and this request's entries under it go
      // unwritten: adopting it could stamp data read before an invalidation with a generation
      // made after it. A writer's bump lives at least PATIENT_CONTROL_POLICY's TTL past this
      // request's read, so "if absent" proves no bump came between only well within it.
      const now = performance.now();
      const readAt = new Map<string, number>();
      const absent = keys.filter((key) => {
        const since = control.absentSince(key);
        if (since === undefined) return false;
        readAt.set(key, since);
        if (now - since < CREATE_WINDOW_MS) return true;
        control.forget(key);
        return false;
      });
      if (absent.length > 0) {
        // Made now, so at or above every invalidation this process knows of.
        const tokens = absent.map((key) => freshToken(cache.floors.floorOf(key)));
        const creation = writeToL2(
          store,
          sealer,
          absent.map((key, i) => ({
            key,
            plaintext: tokens[i] as string,
            policy: policies.get(key) ?? LONG_CONTROL_POLICY,
          })),
          { ifAbsent: true },
        ).then((created) => {
          absent.forEach((key, i) => {
            if (created?.[i] === true) control.adopt(key, tokens[i] as string);
            else control.forget(key);
            if (created?.[i] === false) {
              const policy = policies.get(key) ?? LONG_CONTROL_POLICY;
              repair.creationRefused(
                key,
                key === epochKey ? 'epoch' : 'generation',
                policy,
                readAt.get(key) ?? now,
                cache.floors.floorOf(key),
              );
            }
            creating.delete(key);
          });
        });
        for (const key of absent) creating.set(key, creation);
        await creation;
      }
      const writes: L2Write[] = [];
      const touch = new Map<string, L2Touch>();
      for (const entry of entries) {
        const stamp = stampOf(entry.scope);
        const json = JSON.stringify(entry.value) as string | undefined;
        if (stamp === undefined || json === undefined) continue;
        writes.push({
          key: entry.key,
          plaintext: json,
          stamp,
          // A patient's entries and search results name patients: never longer than PHI,
          // whatever a directive says (SPEC §2.11).
          policy:
            entry.scope.kind === 'patient' || entry.scope.kind === 'search'
              ? { cacheClass: 'phi', maxAgeSeconds: entry.policy.maxAgeSeconds }
              : entry.policy,
        });
        if (entry.scope.kind === 'patient') {
          // The patient's generation is extended in the same MULTI, never rewritten: it then
          // outlives these entries, and a value a writer bumped meanwhile stays bumped.
          const key = generationKeyOf(entry.scope);
          touch.set(key, { key, policy: PATIENT_CONTROL_POLICY });
        }
      }
      if (writes.length > 0) {
        // This process's copy of a key it overwrites goes with the old value: a copy is only
        // ever something read back from L2.
        for (const write of writes) near.delete(write.key);
        return writeToL2(store, sealer, writes, { ifAbsent: false, touch: [...touch.values()] });
      }
      return true;
    },
  };
}
