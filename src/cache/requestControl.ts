import type { GenerationScope, KeySpace } from './cacheKey.js';
import type { CacheMetrics } from './cacheMetrics.js';
import {
  controlPolicyOf,
  counterOfToken,
  generationKey,
  isControlToken,
  LONG_CONTROL_POLICY,
  type ControlRepair,
} from './controlValues.js';
import type { InvalidationFloors } from './invalidationFloors.js';
import type { NearCache } from './nearCache.js';
import type { Sealer } from './sealer.js';

const TENANT_SCOPE: GenerationScope = { kind: 'tenant' };
const UNREADABLE = Symbol('unreadable control value');
/**
 * The control values (epoch, generations) as one request read them, and the stamps they make.
 * A value is a token, null when it was absent, or unreadable when present but failing to open
 * (nothing is stamped under it); a key not read yet has none.
 */
export interface RequestControl {
  readonly tenantKey: string;
  /** Whether this request has read the value (absent and unreadable count as read). */
  has(key: string): boolean;
  /** The token read, if it is one. */
  token(key: string): string | undefined;
  /** When this request read the value absent; undefined unless it did. */
  absentSince(key: string): number | undefined;
  /** The key of a scope's generation, built once per request. */
  readonly generationKeyOf: (scope: GenerationScope) => string;
  /** The stamp of entries under a generation key: `{epoch}.{tenant}.{generation}`. */
  readonly stampAt: (scopeKey: string) => string | undefined;
  /** Records a value as read from L2 (sealed), undefined when absent; `scope` is undefined for the epoch. */
  learn(key: string, sealed: string | undefined, scope: GenerationScope | undefined): void;
  /** Records a token this request created. */
  adopt(key: string, token: string): void;
  /** Forgets a value, so that the request reads it again. */
  forget(key: string): void;
  /** Opens a sealed value, counting one that fails. */
  open(key: string, sealed: string | undefined): string | undefined;
  /**
   * Whether a committed invalidation this process has heard of since superseded a generation
   * this request read (and may have served entries under).
   */
  superseded(): boolean;
}

/** @returns a request's control values, empty. */
export function createRequestControl(deps: {
  readonly space: KeySpace;
  readonly tenantId: string;
  readonly epochKey: string;
  readonly sealer: Sealer;
  /** Opens control values; the same envelope read again is not decrypted again. */
  readonly controlSealer: Sealer;
  readonly metrics: CacheMetrics;
  readonly near: NearCache;
  readonly repair: ControlRepair;
  /** The latest committed invalidation of each scope, as this process heard of it. */
  readonly floors: InvalidationFloors;
}): RequestControl {
  const { space, tenantId, epochKey, sealer, controlSealer, metrics, near, repair, floors } = deps;
  const tenantKey = generationKey(space, tenantId, TENANT_SCOPE);
  const values = new Map<string, string | null | typeof UNREADABLE>();
  const absentAt = new Map<string, number>();
  // Per-request memos, so that no key or stamp is built again for every entry: a scope's
  // generation key (by patient id; each other kind has one), and the stamp under each
  // generation key, forgotten whenever a control value changes.
  const patientGenerationKeys = new Map<string, string>();
  const otherGenerationKeys = new Map<string, string>([['tenant', tenantKey]]);
  const stamps = new Map<string, string | undefined>();
  const set = (key: string, value: string | null | typeof UNREADABLE) => {
    values.set(key, value);
    stamps.clear();
  };
  const openWith = (by: Sealer, key: string, sealed: string | undefined): string | undefined => {
    if (sealed === undefined) return undefined;
    const plaintext = by.open(key, sealed);
    if (plaintext === undefined) metrics.unsealFailures.inc();
    return plaintext;
  };
  const open = (key: string, sealed: string | undefined) => openWith(sealer, key, sealed);

  return {
    tenantKey,
    has: (key) => values.has(key),
    token: (key) => {
      const value = values.get(key);
      return typeof value === 'string' ? value : undefined;
    },
    absentSince: (key) => (values.get(key) === null ? absentAt.get(key) : undefined),
    generationKeyOf: (scope) => {
      const memo = scope.kind === 'patient' ? patientGenerationKeys : otherGenerationKeys;
      const id = scope.kind === 'patient' ? scope.patientId : scope.kind;
      let key = memo.get(id);
      if (key === undefined) {
        key = generationKey(space, tenantId, scope);
        memo.set(id, key);
      }
      return key;
    },
    stampAt: (scopeKey) => {
      if (stamps.has(scopeKey)) return stamps.get(scopeKey);
      const epoch = values.get(epochKey);
      const tenant = values.get(tenantKey);
      const generation = values.get(scopeKey);
      const stamp =
        typeof epoch === 'string' && typeof tenant === 'string' && typeof generation === 'string'
          ? `${epoch}.${tenant}.${generation}`
          : undefined;
      stamps.set(scopeKey, stamp);
      return stamp;
    },
    learn: (key, sealed, scope) => {
      const token = openWith(controlSealer, key, sealed);
      const valid = isControlToken(token);
      // A generation made before the scope's latest committed write: that write's bump has not
      // landed (or never will: Redis refused it), or this is a replay. Not served from; it is
      // replaced with a token at the floor, which nothing of this request is stamped under.
      const floor = valid && scope !== undefined ? floors.floorOf(key) : 0;
      const superseded = floor > 0 && counterOfToken(token as string) < floor;
      // Near copies stamped under any other value can never be served again: they go now, so
      // nothing of a patient whose generation a revocation advanced stays in memory.
      near.observe(
        key,
        valid && !superseded ? token : '',
        scope === undefined ? 'epoch' : 'generation',
      );
      if (sealed === undefined) {
        set(key, null);
        absentAt.set(key, performance.now());
      } else if (superseded) {
        set(key, UNREADABLE);
        repair.replace(key, sealed, 'generation', controlPolicyOf(scope as GenerationScope), {
          counter: floor,
          superseded: true,
        });
      } else if (valid) {
        set(key, token);
      } else {
        // Present but unreadable: SET NX would never replace it, and L2 would stay bypassed for
        // as long as it lives. It is overwritten, and this request caches nothing under it.
        set(key, UNREADABLE);
        if (scope === undefined) repair.replace(key, sealed, 'epoch', LONG_CONTROL_POLICY);
        else repair.replace(key, sealed, 'generation', controlPolicyOf(scope));
      }
    },
    adopt: (key, token) => {
      set(key, token);
    },
    forget: (key) => {
      values.delete(key);
      stamps.clear();
    },
    open,
    superseded: () => {
      for (const [key, value] of values) {
        if (typeof value !== 'string' || key === epochKey) continue;
        const floor = floors.floorOf(key);
        if (floor > 0 && counterOfToken(value) < floor) return true;
      }
      return false;
    },
  };
}
