import { createClient, createKeyv, type default as KeyvRedis } from '@keyv/redis';
import type { Keyv } from 'keyv';
import type { CacheEntry, CacheStore } from './store.js';

export interface RedisStoreOptions {
  /** A redis:// or rediss:// (TLS) URL. */
  readonly url: string;
  /** A command not answered within this long is dropped from the client's queue and fails. */
  readonly commandTimeoutMs: number;
  readonly onError: (error: unknown) => void;
}

/**
 * The shared L2: Keyv over @keyv/redis. `getMany` is one MGET and `setMany` one MULTI, each
 * entry with its own PX and each touched key a PEXPIRE. Commands fail at once while
 * disconnected instead of queueing, so the breaker above sees an outage immediately; the
 * client reconnects by itself.
 */
export function createRedisStore(options: RedisStoreOptions): CacheStore {
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    commandOptions: { timeout: options.commandTimeoutMs },
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
  const adapter = keyv.store as KeyvRedis<string>;

  const connected = async () => {
    if (!client.isOpen) await client.connect();
    return client;
  };

  return {
    kind: 'redis',
    getMany: async (keys) => {
      if (keys.length === 0) return [];
      await connected();
      // Raw values through the adapter, decoded one by one: Keyv would fail the whole MGET on
      // one value that is not JSON, and a garbage epoch would then take every read with it.
      const raw = await adapter.getMany([...keys]);
      return raw.map(deserialize);
    },
    setMany: async (entries, touch = []) => {
      if (entries.length === 0 && touch.length === 0) return;
      const redis = await connected();
      // Redis expires the key (PX), and a value without Keyv's own "expires" is never judged
      // expired by another instance's clock. PEXPIRE on a missing key is a no-op.
      const multi = redis.multi();
      for (const entry of entries) {
        multi.set(entry.key, serialize(entry), { expiration: { type: 'PX', value: entry.ttlMs } });
      }
      for (const t of touch) multi.pExpire(t.key, t.ttlMs);
      await multi.exec();
    },
    setManyIfAbsent: async (entries) => {
      if (entries.length === 0) return [];
      const redis = await connected();
      const multi = redis.multi();
      for (const entry of entries) {
        multi.set(entry.key, serialize(entry), {
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
      // A graceful close waits for Redis to answer; a Redis that is down or hung gets a
      // second, then the socket is dropped.
      if (!client.isOpen) return;
      const closed = client.isReady ? client.close().then(() => true) : Promise.resolve(false);
      const timedOut = new Promise<boolean>((resolve) => {
        setTimeout(() => {
          resolve(false);
        }, 1_000).unref();
      });
      if (!(await Promise.race([closed, timedOut]))) client.destroy();
    },
  };
}

// Keyv's format, so that Keyv's getMany reads the value back.
function serialize(entry: CacheEntry): string {
  return JSON.stringify({ value: entry.value });
}

/** A raw Redis value in Keyv's format; '' when it is present but not something we wrote. */
function deserialize(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    const parsed = JSON.parse(raw) as { value?: unknown; expires?: unknown } | null;
    if (typeof parsed?.expires === 'number' && parsed.expires <= Date.now()) return undefined;
    return typeof parsed?.value === 'string' ? parsed.value : '';
  } catch {
    return '';
  }
}
