import { Keyv } from 'keyv';
import { LRUCache } from 'lru-cache';
import { createMemoryWarming } from './memoryWarming.js';
import type { CacheEntry, CacheStore } from './store.js';

/** What Keyv keeps per key with its serialization off: the value and its expiry. */
interface Stored {
  readonly value: string;
  readonly expires?: number;
}

/**
 * The L2 used when no REDIS_URL is set: Keyv over an LRU bounded by the bytes it holds. Keyv
 * enforces each entry's TTL; the LRU evicts the least recently used entries past `maxBytes`.
 * Keyv's JSON serialization is off: the LRU holds Keyv's `{ value, expires }` objects as they
 * are, and a value is the sealed string itself, parsed by nobody until it is opened. Writes run
 * one at a time, so that "set if absent" is atomic as it is in Redis.
 */
export function createMemoryStore(options: {
  readonly maxBytes: number;
  readonly onError: (error: unknown) => void;
}): CacheStore {
  const lru = new LRUCache<string, Stored>({
    maxSize: options.maxBytes,
    // Strings are UTF-16 in memory at worst; the key costs about as much again.
    sizeCalculation: (stored, key) => (stored.value.length + key.length) * 2 + 32,
  });
  // Keyv passes a TTL as a third argument to set(), which lru-cache reads as an options object;
  // Keyv keeps the expiry itself, so the LRU gets a plain Map-shaped view.
  const mapView = {
    get: (key: string) => lru.get(key),
    set: (key: string, value: Stored) => {
      lru.set(key, value);
      return mapView;
    },
    delete: (key: string) => lru.delete(key),
    clear: () => {
      lru.clear();
    },
    has: (key: string) => lru.has(key),
  };
  const keyv = new Keyv<string>({
    store: mapView,
    useKeyPrefix: false,
    throwOnErrors: true,
    serialize: undefined,
    deserialize: undefined,
  });
  keyv.namespace = undefined;
  keyv.on('error', options.onError);

  let writes: Promise<unknown> = Promise.resolve();
  const serially = <T>(write: () => Promise<T>): Promise<T> => {
    const next = writes.then(write, write);
    writes = next.catch(() => undefined);
    return next;
  };

  return {
    kind: 'memory',
    getMany: async (keys) => (keys.length === 0 ? [] : keyv.getMany<string>([...keys])),
    setMany: (entries, touch = []) =>
      serially(async () => {
        await keyv.setMany(entries.map(toKeyvEntry));
        if (touch.length === 0) return;
        // A get then a set, atomic because writes run one at a time: a touched key keeps the
        // value it holds now, and a missing one stays missing.
        const current = await keyv.getMany<string>(touch.map((t) => t.key));
        const present = touch.flatMap((t, i) => {
          const value = current[i];
          return value === undefined ? [] : [{ key: t.key, value, ttlMs: t.ttlMs }];
        });
        if (present.length > 0) await keyv.setMany(present.map(toKeyvEntry));
      }),
    setManyIfAbsent: (entries) =>
      serially(async () => {
        const existing = await keyv.getMany<string>(entries.map((e) => e.key));
        const absent = entries.filter((_, i) => existing[i] === undefined);
        if (absent.length > 0) await keyv.setMany(absent.map(toKeyvEntry));
        return existing.map((value) => value === undefined);
      }),
    ping: () => Promise.resolve(),
    warming: createMemoryWarming(() => lru.calculatedSize),
    close: async () => {
      lru.clear();
      await Promise.resolve();
    },
  };
}

function toKeyvEntry(entry: CacheEntry) {
  return { key: entry.key, value: entry.value, ttl: entry.ttlMs };
}
