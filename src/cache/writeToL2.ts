import { PHI_MAX_AGE_CAP_SECONDS, type CachePolicy } from '../policy/cachePolicy.js';
import type { GuardedStore } from './guardedStore.js';
import type { Sealer } from './sealer.js';
import type { CacheEntry } from './store.js';

export interface L2Write {
  readonly key: string;
  /** Plaintext; sealed here, never stored as is. */
  readonly plaintext: string;
  readonly policy: Pick<CachePolicy, 'cacheClass' | 'maxAgeSeconds'>;
}

/**
 * The one function that writes to L2. It seals every value, and it caps PHI at 300 s
 * whatever its caller asks, so no code path can store PHI for longer. Entries whose maxAge is
 * zero are not written.
 *
 * @returns for an ordinary write, whether it succeeded; with `ifAbsent`, which entries were
 *   written (or undefined when the store failed).
 */
export function writeToL2(
  store: GuardedStore,
  sealer: Sealer,
  writes: ReadonlyArray<L2Write>,
  mode: { readonly ifAbsent: true },
): Promise<boolean[] | undefined>;
export function writeToL2(
  store: GuardedStore,
  sealer: Sealer,
  writes: ReadonlyArray<L2Write>,
  mode?: { readonly ifAbsent: false },
): Promise<boolean>;
export function writeToL2(
  store: GuardedStore,
  sealer: Sealer,
  writes: ReadonlyArray<L2Write>,
  mode: { readonly ifAbsent: boolean } = { ifAbsent: false },
): Promise<boolean | boolean[] | undefined> {
  const entries: CacheEntry[] = [];
  for (const write of writes) {
    const ttlSeconds = effectiveTtlSeconds(write.policy);
    if (ttlSeconds <= 0) continue;
    entries.push({
      key: write.key,
      value: sealer.seal(write.key, write.plaintext),
      ttlMs: ttlSeconds * 1000,
    });
  }
  return mode.ifAbsent ? store.setManyIfAbsent(entries) : store.setMany(entries);
}

/** The TTL an entry gets: its policy's maxAge, and never more than 300 s for PHI. */
export function effectiveTtlSeconds(
  policy: Pick<CachePolicy, 'cacheClass' | 'maxAgeSeconds'>,
): number {
  const requested = Math.max(0, Math.floor(policy.maxAgeSeconds));
  return policy.cacheClass === 'phi' ? Math.min(requested, PHI_MAX_AGE_CAP_SECONDS) : requested;
}
