/** One value to write, with its own time-to-live. */
export interface CacheEntry {
  readonly key: string;
  readonly value: string;
  readonly ttlMs: number;
}

/** A key whose time-to-live a write extends, leaving its value as it is. */
export interface KeyTouch {
  readonly key: string;
  readonly ttlMs: number;
}

/**
 * The L2 contract: a small structural interface that the in-process store and Redis both
 * meet, and one contract test suite checks for both. Each method is one round trip.
 */
export interface CacheStore {
  readonly kind: 'memory' | 'redis' | 'none';
  /**
   * Values in key order; undefined for a missing or expired key, and '' for a key that holds
   * something this store did not write (present, but unreadable). One such value never fails
   * the others.
   */
  getMany(keys: ReadonlyArray<string>): Promise<Array<string | undefined>>;
  /**
   * Writes every entry, overwriting what was there, and gives each touched key that exists the
   * TTL named for it, atomically with the writes. A touched key that is missing stays missing;
   * a touch never writes a value, so it cannot bring back one a concurrent write replaced.
   */
  setMany(entries: ReadonlyArray<CacheEntry>, touch?: ReadonlyArray<KeyTouch>): Promise<void>;
  /** Writes each entry only where its key is absent; says, in order, which were written. */
  setManyIfAbsent(entries: ReadonlyArray<CacheEntry>): Promise<boolean[]>;
  /** Resolves when the store answers. */
  ping(): Promise<void>;
  /**
   * Opens the store's connection ahead of the first command, and resolves when it is open or
   * could not be (never rejects). Without it, the first burst of requests of a new process waits
   * on the connection inside their command timeouts, and opens the breaker.
   */
  connect?(): Promise<void>;
  close(): Promise<void>;
}
