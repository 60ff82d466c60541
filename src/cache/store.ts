/** One value to write, with its own time-to-live. */
export interface CacheEntry {
  readonly key: string;
  readonly value: string;
  readonly ttlMs: number;
}

/**
 * The L2 contract: a small structural interface that the in-process store and Redis both
 * meet, and one contract test suite checks for both. Each method is one round trip.
 */
export interface CacheStore {
  readonly kind: 'memory' | 'redis' | 'none';
  /** Values in key order; undefined for a missing or expired key. */
  getMany(keys: ReadonlyArray<string>): Promise<Array<string | undefined>>;
  /** Writes every entry, overwriting what was there. */
  setMany(entries: ReadonlyArray<CacheEntry>): Promise<void>;
  /** Writes each entry only where its key is absent; says, in order, which were written. */
  setManyIfAbsent(entries: ReadonlyArray<CacheEntry>): Promise<boolean[]>;
  /** Resolves when the store answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
