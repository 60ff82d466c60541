import { PHI_MAX_AGE_CAP_SECONDS } from '../policy/cachePolicy.js';
import type { GenerationScope } from './cacheKey.js';
import {
  controlPolicyOf,
  freshToken,
  generationKey,
  isControlToken,
  LONG_CONTROL_POLICY,
  PATIENT_CONTROL_POLICY,
  type ControlPolicy,
  type ControlRepair,
} from './controlValues.js';
import type { EntryRead, L2Cache, RequestCache } from './l2Cache.js';
import type { Sealer } from './sealer.js';
import { writeToL2, type L2Touch, type L2Write } from './writeToL2.js';

// A control value this request saw absent is created "if absent" only this soon after.
const CREATE_WINDOW_MS = (PHI_MAX_AGE_CAP_SECONDS * 1000) / 2;
const UNREADABLE = Symbol('unreadable control value');

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
): RequestCache {
  const { store, space, metrics } = cache;
  const tenantKey = generationKey(space, tenantId, { kind: 'tenant' });
  // Control values as this request read them: a token, null when absent, UNREADABLE when
  // present but failing to open (this request stamps nothing under it), or not yet read.
  const control = new Map<string, string | null | typeof UNREADABLE>();
  // When this request saw each absent control value absent.
  const absentAt = new Map<string, number>();
  // Creations under way, so that two writes of one request never race to create one value.
  const creating = new Map<string, Promise<void>>();

  const stampOf = (scope: GenerationScope): string | undefined => {
    const epoch = control.get(epochKey);
    const tenant = control.get(tenantKey);
    const generation = control.get(generationKey(space, tenantId, scope));
    if (typeof epoch !== 'string' || typeof tenant !== 'string') return undefined;
    if (typeof generation !== 'string') return undefined;
    return `${epoch}.${tenant}.${generation}`;
  };

  const open = (key: string, sealed: string | undefined): string | undefined => {
    if (sealed === undefined) return undefined;
    const plaintext = sealer.open(key, sealed);
    if (plaintext === undefined) metrics.unsealFailures.inc();
    return plaintext;
  };

  /** Records a control value as read; `scope` is undefined for the epoch. */
  const learnControl = (
    key: string,
    sealed: string | undefined,
    scope: GenerationScope | undefined,
  ): void => {
    if (sealed === undefined) {
      control.set(key, null);
      absentAt.set(key, performance.now());
      return;
    }
    const token = open(key, sealed);
    if (isControlToken(token)) {
      control.set(key, token);
      return;
    }
    // Present but unreadable: SET NX would never replace it, and L2 would stay bypassed for as
    // long as it lives. It is overwritten, and this request caches nothing under it.
    control.set(key, UNREADABLE);
    if (scope === undefined) repair.replace(key, sealed, 'epoch', LONG_CONTROL_POLICY);
    else repair.replace(key, sealed, 'generation', controlPolicyOf(scope));
  };

  const readNow = async (
    entries: ReadonlyArray<EntryRead>,
    alsoScopes: ReadonlyArray<GenerationScope>,
  ): Promise<unknown[]> => {
    if (entries.length === 0 || !(await cache.ensureTrusted())) {
      return entries.map(() => undefined);
    }
    const scopes = [...entries.map((e) => e.scope), ...alsoScopes];
    const controlScopes = new Map<string, GenerationScope | undefined>([
      [epochKey, undefined],
      [tenantKey, { kind: 'tenant' }],
      ...scopes.map((scope) => [generationKey(space, tenantId, scope), scope] as const),
    ]);
    const wantedControl = [...controlScopes.keys()].filter((key) => !control.has(key));
    const keys = [...wantedControl, ...entries.map((e) => e.key)];
    const values = await store.getMany(keys);
    if (values === undefined) return entries.map(() => undefined);
    wantedControl.forEach((key, i) => {
      learnControl(key, values[i], controlScopes.get(key));
    });
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
      const policies = new Map<string, ControlPolicy>([
        [epochKey, LONG_CONTROL_POLICY],
        [tenantKey, LONG_CONTROL_POLICY],
        ...entries.map(
          (e) => [generationKey(space, tenantId, e.scope), controlPolicyOf(e.scope)] as const,
        ),
      ]);
      const keys = [...policies.keys()];
      await Promise.all(keys.flatMap((key) => creating.get(key) ?? []));
      // Control values this request found absent are created now, if still absent. A value
      // another process created meanwhile wins, and this request's entries under it go
      // unwritten: adopting it could stamp data read before an invalidation with a generation
      // made after it. A writer's bump lives at least PATIENT_CONTROL_POLICY's TTL past this
      // request's read, so "if absent" proves no bump came between only well within it.
      const now = performance.now();
      const absent = keys.filter((key) => {
        if (control.get(key) !== null) return false;
        if (now - (absentAt.get(key) ?? now) < CREATE_WINDOW_MS) return true;
        control.delete(key);
        return false;
      });
      if (absent.length > 0) {
        const tokens = absent.map(() => freshToken());
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
            if (created?.[i] === true) control.set(key, tokens[i] as string);
            else control.delete(key);
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
        if (stamp === undefined) continue;
        writes.push({
          key: entry.key,
          plaintext: JSON.stringify({ s: stamp, v: entry.value }),
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
          const key = generationKey(space, tenantId, entry.scope);
          touch.set(key, { key, policy: PATIENT_CONTROL_POLICY });
        }
      }
      if (writes.length > 0) {
        await writeToL2(store, sealer, writes, { ifAbsent: false, touch: [...touch.values()] });
      }
    },
  };
}
