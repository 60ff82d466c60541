import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../logger.js';
import { PHI_MAX_AGE_CAP_SECONDS } from '../policy/cachePolicy.js';
import { buildCacheKey, type GenerationScope, type KeySpace } from './cacheKey.js';
import type { CacheMetrics } from './cacheMetrics.js';
import type { GuardedStore } from './guardedStore.js';
import type { Sealer } from './sealer.js';
import { writeToL2, type L2Write } from './writeToL2.js';

export type ControlPolicy = L2Write['policy'];

/**
 * The epoch and the tenant, reference and search generations name no patient and outlive any
 * entry they guard. When one expires or is evicted, the entries it guarded become unreadable.
 */
export const LONG_CONTROL_POLICY: ControlPolicy = {
  cacheClass: 'reference',
  maxAgeSeconds: 30 * 24 * 3600,
};

/**
 * A patient's generation names the patient, so it lives no longer than PHI (SPEC §2.11). Every
 * write of entries under it extends it to this again, so it outlives the entries it guards; it
 * may expire after them, which is safe because a generation value is never reused.
 */
export const PATIENT_CONTROL_POLICY: ControlPolicy = {
  cacheClass: 'phi',
  maxAgeSeconds: PHI_MAX_AGE_CAP_SECONDS,
};

/** The key of a scope's generation in a tenant. */
export function generationKey(space: KeySpace, tenantId: string, scope: GenerationScope): string {
  return buildCacheKey(space, { kind: 'generation', tenantId, scope });
}

/** The policy of a scope's generation. */
export function controlPolicyOf(scope: GenerationScope): ControlPolicy {
  return scope.kind === 'patient' ? PATIENT_CONTROL_POLICY : LONG_CONTROL_POLICY;
}

// A token's random part: 12 bytes in base64url, always 16 characters.
const RANDOM_CHARS = 16;

/**
 * A new control value: random, so never equal to one that came before, followed by the
 * invalidation sequence number it was made at or after (in base 36; none for 0). The number is
 * sealed with the rest, so nobody without the key can raise it: a generation read with a number
 * below the scope's latest invalidation was made before that write (see `InvalidationFloors`).
 */
export function freshToken(counter = 0): string {
  const random = randomBytes(12).toString('base64url');
  return counter > 0 ? `${random}${counter.toString(36)}` : random;
}

/** The invalidation sequence number a token was made at; 0 for a token without one. */
export function counterOfToken(token: string): number {
  return token.length > RANDOM_CHARS ? Number.parseInt(token.slice(RANDOM_CHARS), 36) : 0;
}

const TOKEN = /^[A-Za-z0-9_-]{16}[0-9a-z]{0,12}$/;

/** Whether an opened control value is one `freshToken` could have made. */
export function isControlToken(plaintext: string | undefined): plaintext is string {
  return plaintext !== undefined && TOKEN.test(plaintext);
}

// A read sent before a replacement landed may come back with the value it replaced; for this
// long, seeing that same value again is that race, not a new fault.
const REPLACED_MEMORY_MS = 1_000;
// A refused creation is remembered this long, to tell a key of another Redis type from a race.
const REFUSED_MEMORY_MS = 10_000;
// What a key of another Redis type holds, as far as a replacement's memory is concerned.
const NOT_A_STRING = '\u0000not a string';

export interface ReplaceOptions {
  /** The invalidation sequence number the new token carries (see `freshToken`). */
  readonly counter?: number | undefined;
  /**
   * The value opened, but was made before the scope's latest committed invalidation: that
   * write's own bump has not landed (Redis refused it, or it is still on its way), or the value
   * was replayed. Routine, so counted in `caregraph_cache_superseded_generations_total` and
   * not logged.
   */
  readonly superseded?: boolean;
}

/**
 * Replaces control values that are present in L2 but fail to open, counting each replacement
 * sent in `caregraph_cache_control_replaced_total{kind}`.
 */
export interface ControlRepair {
  /**
   * Overwrites `key`, which holds `found`, with a fresh token, unless a replacement of it is in
   * flight in this process or `found` is what one just replaced. The caller must not adopt the
   * new token (it never learns it): written unconditionally, it may land after a concurrent
   * writer's bump, and stamping data read before that bump with it would serve stale data.
   * A replacement is only an invalidation, and a later request reads it like any other.
   */
  replace(
    key: string,
    found: string,
    kind: 'epoch' | 'generation',
    policy: ControlPolicy,
    options?: ReplaceOptions,
  ): void;
  /**
   * Records that `key`, read absent at `readAtMs` (performance.now), could not be created "if
   * absent". That is the ordinary race with another request that created it first, as often as
   * requests read it absent at once (a cold start). Refused again for a read made *after* a
   * refusal, when the value created then should have been read, it is a key that MGET reads as
   * absent but that exists: a key of another Redis type (a hash, a list), which SET NX can
   * never replace. It is overwritten like a value that fails to open.
   */
  creationRefused(
    key: string,
    kind: 'epoch' | 'generation',
    policy: ControlPolicy,
    readAtMs: number,
    counter?: number,
  ): void;
  /** Resolves once every replacement started so far has settled. */
  settled(): Promise<void>;
}

export function createControlRepair(deps: {
  readonly store: GuardedStore;
  readonly sealer: Sealer;
  readonly metrics: CacheMetrics;
  readonly logger: Logger;
}): ControlRepair {
  const { store, sealer, metrics, logger } = deps;
  const inFlight = new Map<string, Promise<void>>();
  const replaced = new LRUCache<string, string>({ max: 10_000, ttl: REPLACED_MEMORY_MS });
  // When a creation of the key was first refused (performance.now).
  const refused = new LRUCache<string, number>({ max: 10_000, ttl: REFUSED_MEMORY_MS });
  const repair: ControlRepair = {
    creationRefused: (key, kind, policy, readAtMs, counter) => {
      const firstAt = refused.get(key);
      if (firstAt === undefined) {
        refused.set(key, performance.now());
        return;
      }
      // Read before the first refusal: one more request of the same race.
      if (readAtMs <= firstAt) return;
      refused.delete(key);
      repair.replace(key, NOT_A_STRING, kind, policy, { counter });
    },
    replace: (key, found, kind, policy, options = {}) => {
      if (inFlight.has(key) || replaced.get(key) === found) return;
      // Counted when sent: a write that timed out may still have landed.
      if (options.superseded === true) {
        metrics.supersededGenerations.inc();
      } else {
        metrics.controlReplaced.inc({ kind });
        // The key may name a patient: the log gets its kind only.
        logger.warn({ kind }, 'an L2 control value failed to open; replacing it');
      }
      const replacement = writeToL2(store, sealer, [
        { key, plaintext: freshToken(options.counter), policy },
      ])
        .then((written) => {
          if (written) replaced.set(key, found);
        })
        .finally(() => {
          inFlight.delete(key);
        });
      inFlight.set(key, replacement);
    },
    settled: async () => {
      await Promise.all(inFlight.values());
    },
  };
  return repair;
}
