import { PHI_MAX_AGE_CAP_SECONDS, type CachePolicy } from '../policy/cachePolicy.js';
import { frameEntry } from './entryFrame.js';
import type { GuardedStore } from './guardedStore.js';
import type { Sealer } from './sealer.js';
import type { CacheEntry, KeyTouch } from './store.js';

export interface L2Write {
  readonly key: string;
  /** Plaintext; sealed here, never stored as is. */
  readonly plaintext: string;
  readonly policy: Pick<CachePolicy, 'cacheClass' | 'maxAgeSeconds'>;
  /**
   * Set for an entry (not a control value or a document): the stamp it is written under. The
   * plaintext is then framed with it, the write time and the TTL this write gives the key, and
   * all of it is sealed (see `entryFrame.ts`), so no reader keeps a copy past that TTL.
   */
  readonly stamp?: string;
}

/** A key whose TTL the write extends to its policy's (capped like any entry), if it exists. */
export interface L2Touch {
  readonly key: string;
  readonly policy: L2Write['policy'];
}

/**
 * The one function that writes to L2. It seals every value, and it caps PHI at 300 s
 * whatever its caller asks, so no code path can store PHI for longer. Entries whose maxAge is
 * zero are not written, nor entries whose stamp cannot be framed. An ordinary write may also `touch` keys, in the same round trip: their
 * TTLs are extended, their values left as they are; touches go only with at least one entry.
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
  mode?: { readonly ifAbsent: false; readonly touch?: ReadonlyArray<L2Touch> },
): Promise<boolean>;
export function writeToL2(
  store: GuardedStore,
  sealer: Sealer,
  writes: ReadonlyArray<L2Write>,
  mode: { readonly ifAbsent: boolean; readonly touch?: ReadonlyArray<L2Touch> } = {
    ifAbsent: false,
  },
): Promise<boolean | boolean[] | undefined> {
  const entries: CacheEntry[] = [];
  const now = Date.now();
  for (const write of writes) {
    const ttlSeconds = effectiveTtlSeconds(write.policy);
    if (ttlSeconds <= 0) continue;
    const ttlMs = ttlSeconds * 1000;
    const plaintext =
      write.stamp === undefined
        ? write.plaintext
        : frameEntry(write.stamp, now, ttlMs, write.plaintext);
    if (plaintext === undefined) continue;
    entries.push({ key: write.key, value: sealer.seal(write.key, plaintext), ttlMs });
  }
  if (mode.ifAbsent) return store.setManyIfAbsent(entries);
  const touch: KeyTouch[] = [];
  for (const t of entries.length > 0 ? (mode.touch ?? []) : []) {
    const ttlSeconds = effectiveTtlSeconds(t.policy);
    if (ttlSeconds > 0) touch.push({ key: t.key, ttlMs: ttlSeconds * 1000 });
  }
  return store.setMany(entries, touch);
}

/** The TTL an entry gets: its policy's maxAge, and never more than 300 s for PHI. */
export function effectiveTtlSeconds(
  policy: Pick<CachePolicy, 'cacheClass' | 'maxAgeSeconds'>,
): number {
  const requested = Math.max(0, Math.floor(policy.maxAgeSeconds));
  return policy.cacheClass === 'phi' ? Math.min(requested, PHI_MAX_AGE_CAP_SECONDS) : requested;
}
