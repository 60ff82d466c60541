import { createClient, createKeyv } from '@keyv/redis';
import type { Keyv } from 'keyv';
import type { CacheEntry, CacheStore } from './store.js';

export interface RedisStoreOptions {
  /** A redis:// or rediss:// (TLS) URL. */
  readonly url: string;
  readonly onError: (error: unknown) => void;
}

/**
 * The shared L2: Keyv over @keyv/redis. `getMany` is one MGET and `setMany` one MULTI, each
 * entry with its own PX. Commands fail at once while disconnected instead of queueing, so the
 * breaker above sees an outage immediately; the client reconnects by itself.
 */
export function createRedisStore(options: RedisStoreOptions): CacheStore {
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000),
    },
  });
  // node-redis emits connection errors as events; an unheard one would crash the process.
  client.on('error', options.onError);
  // createKeyv leaves keys unprefixed: the cache key builder owns the whole key.
  const keyv = createKeyv(client, {
    throwOnErrors: true,
    throwOnConnectError: true,
  }) as Keyv<string>;
  keyv.on('error', options.onError);

  const connected = async () => {
    if (!client.isOpen) await client.connect();
    return client;
  };

  return {
    kind: 'redis',
    getMany: async (keys) => {
      if (keys.length === 0) return [];
      await connected();
      return keyv.getMany<string>([...keys]);
    },
    setMany: async (entries) => {
      if (entries.length === 0) return;
      await connected();
      await keyv.setMany(entries.map((e) => ({ key: e.key, value: e.value, ttl: e.ttlMs })));
    },
    setManyIfAbsent: async (entries) => {
      if (entries.length === 0) return [];
      const redis = await connected();
      const multi = redis.multi();
      for (const entry of entries) {
        multi.set(entry.key, await serialize(keyv, entry), {
          condition: 'NX',
          expiration: { type: 'PX', value: entry.ttlMs },
        });
      }
      const replies = await multi.exec();
      // SET … NX answers OK when it wrote and nil when the key was there.
      return replies.map((reply) => (reply as unknown) !== null);
    },
    ping: async () => {
      await (await connected()).ping();
    },
    close: async () => {
      // A graceful close waits for Redis to answer; while it is down, just drop the socket.
      if (client.isReady) await client.close();
      else if (client.isOpen) client.destroy();
    },
  };
}

// Values written beside Keyv's own must be in Keyv's format, so that getMany reads them back.
async function serialize(keyv: Keyv<string>, entry: CacheEntry): Promise<string> {
  const data = await keyv.serializeData({ value: entry.value, expires: Date.now() + entry.ttlMs });
  return typeof data === 'string' ? data : JSON.stringify(data);
}
