import { LRUCache } from 'lru-cache';

export interface NearCacheOptions {
  /** How long a decoded entry is kept at most, in ms; 0 turns the near cache off. */
  readonly ttlMs: number;
  /** The bound on the memory the kept entries take (an estimate), in bytes; 0 turns it off. */
  readonly maxBytes: number;
}

export const DEFAULT_NEAR_CACHE: NearCacheOptions = { ttlMs: 3_000, maxBytes: 32 * 1024 * 1024 };

/** A decoded L2 entry kept in process, with the stamp it was read under. */
export interface NearCopy {
  readonly value: unknown;
  /** `{epoch}.{tenant generation}.{scope generation}`, as the entry's frame carried it. */
  readonly stamp: string;
}

/** What a request keeps after it read an entry from L2 and its stamp matched. */
export interface KeptEntry extends NearCopy {
  /** The key of the tenant's generation and of the entry's scope's generation. */
  readonly tenantKey: string;
  readonly scopeKey: string;
  /** The tokens of those two generations inside `stamp`. */
  readonly tenantToken: string;
  readonly scopeToken: string;
  /** The write time and TTL sealed into the entry. */
  readonly writtenAtMs: number;
  readonly ttlMs: number;
  /** The length of the entry's JSON, from which its memory is estimated. */
  readonly jsonLength: number;
}

/**
 * The near cache, the "in-memory cache for active sessions": decoded L2 entries kept in this
 * process for a few seconds, so that a request whose stamps (read from Redis in that request)
 * match skips the entry's network transfer, its decryption and its parse. It never decides
 * freshness on its own: the request cache serves a copy only when its stamp equals the one the
 * request read, and only while L2 can be read.
 */
export interface NearCache {
  readonly enabled: boolean;
  /** The copy of an entry, unless it is past the near TTL or the TTL sealed into it. */
  get(key: string): NearCopy | undefined;
  keep(key: string, entry: KeptEntry): void;
  delete(key: string): void;
  /**
   * A request read this token for a control value (a tenant's or a scope's generation, or the
   * epoch): every copy stamped under another one is dropped, since none can be served again.
   */
  observe(controlKey: string, token: string, kind: 'epoch' | 'generation'): void;
  /** Drops every copy under these generations (a local invalidation). */
  drop(controlKeys: ReadonlyArray<string>): void;
  clear(): void;
  /** The keys of the copies kept now: for tests and diagnostics. */
  keys(): string[];
}

interface Copy extends NearCopy {
  readonly tenantKey: string;
  readonly scopeKey: string;
  /** Monotonic: `performance.now()` after which the copy is not served (the near TTL). */
  readonly deadline: number;
  /** Wall clock: the write time plus the TTL sealed into the entry. */
  readonly expiresAtMs: number;
}

interface Dependents {
  readonly token: string;
  readonly keys: Set<string>;
}

// Per-copy overhead beyond its JSON, roughly: the key, the stamp, the object and map slots.
const OVERHEAD_BYTES = 256;

/**
 * Creates a bounded near cache: an LRU over the estimated bytes of its copies.
 *
 * @returns a near cache; a disabled one when `ttlMs` or `maxBytes` is 0.
 */
export function createNearCache(options: NearCacheOptions): NearCache {
  const enabled = options.ttlMs > 0 && options.maxBytes > 0;
  // Copies by generation key, so that a bump seen by any request drops them all at once.
  const dependents = new Map<string, Dependents>();
  let epoch: string | undefined;
  const unlink = (controlKey: string, key: string) => {
    const group = dependents.get(controlKey);
    if (group === undefined) return;
    group.keys.delete(key);
    if (group.keys.size === 0) dependents.delete(controlKey);
  };
  const lru = new LRUCache<string, Copy>({
    maxSize: Math.max(1, options.maxBytes),
    dispose: (copy, key) => {
      unlink(copy.tenantKey, key);
      unlink(copy.scopeKey, key);
    },
  });
  const link = (controlKey: string, token: string, key: string) => {
    let group = dependents.get(controlKey);
    if (group !== undefined && group.token !== token) {
      dropGroup(controlKey);
      group = undefined;
    }
    if (group === undefined) {
      group = { token, keys: new Set() };
      dependents.set(controlKey, group);
    }
    group.keys.add(key);
  };
  const dropGroup = (controlKey: string) => {
    const group = dependents.get(controlKey);
    if (group === undefined) return;
    dependents.delete(controlKey);
    for (const key of group.keys) lru.delete(key);
  };
  const clear = () => {
    lru.clear();
    dependents.clear();
  };

  return {
    enabled,
    get: (key) => {
      if (!enabled) return undefined;
      const copy = lru.get(key);
      if (copy === undefined) return undefined;
      if (performance.now() >= copy.deadline || Date.now() >= copy.expiresAtMs) {
        lru.delete(key);
        return undefined;
      }
      return copy;
    },
    keep: (key, entry) => {
      if (!enabled) return;
      // The near TTL runs on the monotonic clock; the sealed expiry on the wall clock, as the
      // writer's was. A copy lives until the sooner of the two, checked again on every get.
      const expiresAtMs = entry.writtenAtMs + entry.ttlMs;
      const life = Math.min(options.ttlMs, expiresAtMs - Date.now());
      if (life <= 0) return;
      lru.set(
        key,
        {
          value: deepFreeze(entry.value),
          stamp: entry.stamp,
          tenantKey: entry.tenantKey,
          scopeKey: entry.scopeKey,
          deadline: performance.now() + life,
          expiresAtMs,
        },
        { size: 2 * (entry.jsonLength + key.length + entry.stamp.length) + OVERHEAD_BYTES },
      );
      // Too big for the cap: lru-cache kept nothing.
      if (!lru.has(key)) return;
      link(entry.tenantKey, entry.tenantToken, key);
      link(entry.scopeKey, entry.scopeToken, key);
    },
    delete: (key) => {
      lru.delete(key);
    },
    observe: (controlKey, token, kind) => {
      if (!enabled) return;
      if (kind === 'epoch') {
        if (epoch !== undefined && epoch !== token) clear();
        epoch = token;
        return;
      }
      const group = dependents.get(controlKey);
      if (group !== undefined && group.token !== token) dropGroup(controlKey);
    },
    drop: (controlKeys) => {
      for (const key of controlKeys) dropGroup(key);
    },
    clear,
    keys: () => [...lru.keys()],
  };
}

/**
 * Freezes a decoded entry and everything in it: one copy is handed to every request that
 * reads it, so no request may change what another one is served.
 */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  return value;
}
