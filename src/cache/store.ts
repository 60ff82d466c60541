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
  /**
   * Drops the connection and opens a new one on the next command. The guard calls it when the
   * breaker's probes keep failing: a connection that died without a FIN or RST (a NAT or
   * conntrack drop, a failover behind a virtual IP) looks open, and the client, with no
   * per-command timeout, would wait on it until the kernel gives up (minutes).
   */
  reconnect?(): void;
  /** The warmer's commands: hot sets and its lease (SPEC §5). Absent: nothing is warmed. */
  readonly warming?: WarmingCommands;
  close(): Promise<void>;
}

/** One member of a hot set and its score. */
export type HotMember = readonly [member: string, score: number];

/**
 * Hot sets (sorted sets of ids, never values) and a lease, each command one round trip and
 * atomic, touching one key (so one slot of a cluster).
 */
export interface WarmingCommands {
  /**
   * Adds each score to its member's, keeps the `maxSize` highest, and gives the set `ttlMs`
   * to live from now.
   */
  readonly addToHotSet: (
    key: string,
    scores: ReadonlyArray<HotMember>,
    maxSize: number,
    ttlMs: number,
  ) => Promise<void>;
  /**
   * The `limit` highest members, highest first, after multiplying every score by `decay` (1
   * leaves them) and dropping members that fall under 1. The set keeps the TTL it had.
   */
  readonly readHotSet: (key: string, limit: number, decay: number) => Promise<HotMember[]>;
  /** Members of each set (0 for a missing one). */
  readonly hotSetSizes: (keys: ReadonlyArray<string>) => Promise<number[]>;
  /** Takes the lease for `ttlMs`, or extends it when `owner` holds it; false when another does. */
  readonly holdLease: (key: string, owner: string, ttlMs: number) => Promise<boolean>;
  /** Gives the lease up, if `owner` holds it. */
  readonly releaseLease: (key: string, owner: string) => Promise<void>;
  /** Bytes the store uses (Redis `used_memory`, summed over a cluster's masters). */
  readonly usedMemoryBytes: () => Promise<number>;
}
