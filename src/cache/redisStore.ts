import KeyvRedis, { createClient, createCluster, createKeyv } from '@keyv/redis';
import slotOf from 'cluster-key-slot';
import { Keyv } from 'keyv';
import { redisWarmingCommands, usedMemoryOf } from './redisWarming.js';
import type { CacheStore } from './store.js';

export interface RedisStoreOptions {
  /** A redis:// or rediss:// (TLS) URL. */
  readonly url: string;
  readonly onError: (error: unknown) => void;
}

/**
 * The shared L2: Keyv over @keyv/redis. `getMany` is one MGET and `setMany` one MULTI, each
 * entry with its own PX and each touched key a PEXPIRE. Commands fail at once while
 * disconnected instead of queueing, so the breaker above sees an outage immediately; the
 * client reconnects by itself. Timeouts are the guard's (`guardedStore.ts`), never the client's.
 */
export function createRedisStore(options: RedisStoreOptions): CacheStore {
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    // No per-command timeout, on purpose. node-redis 5 (through 5.12) drops a timed-out command
    // from its write queue with a list removal that corrupts the queue when two commands
    // queued in a row both time out before they are written, which a busy event loop makes
    // routine: from then on nothing is ever written again on a socket that looks healthy
    // (node-redis#3320, fixed in 6.x, which @keyv/redis 5 does not take). It also costs an
    // AbortSignal and a timer per command, and measures the event loop rather than Redis.
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
  // Keyv is the store's contract, not its hot path: values are this store's own binary frames
  // (see `encodeStoredValue`), read and written through node-redis directly, and Keyv's JSON
  // wrapper is switched off so that it adds none of its own.
  keyv.serialize = undefined;
  keyv.deserialize = undefined;
  // MGET answers with Buffers, not UTF-8 text: a sealed value is bytes.
  const binary = client.withTypeMapping({ [BLOB_STRING]: Buffer });

  let opening: Promise<unknown> | undefined;
  const connected = async () => {
    if (!client.isOpen) {
      // One connect for every command that finds the client closed (after `reconnect`).
      opening ??= client.connect().finally(() => {
        opening = undefined;
      });
      await opening;
    }
    // While reconnecting node-redis refuses single commands (disableOfflineQueue) but queues a
    // MULTI until the socket is back, to land arbitrarily late: refuse it too.
    if (!client.isReady) throw new Error('L2 is reconnecting');
    return client;
  };

  return {
    kind: 'redis',
    getMany: async (keys) => {
      if (keys.length === 0) return [];
      await connected();
      // Each value decoded alone: one that is not ours never fails the others, and a garbage
      // epoch never takes every read with it.
      const raw = await binary.mGet([...keys]);
      return raw.map(decodeStoredValue);
    },
    setMany: async (entries, touch = []) => {
      if (entries.length === 0 && touch.length === 0) return;
      const redis = await connected();
      // Redis expires the key (PX); the store adds no expiry of its own (an entry's sealed TTL
      // is the request cache's to check). PEXPIRE on a missing key is a no-op.
      const multi = redis.multi();
      for (const entry of entries) {
        multi.set(entry.key, encodeStoredValue(entry.value), {
          expiration: { type: 'PX', value: entry.ttlMs },
        });
      }
      for (const t of touch) multi.pExpire(t.key, t.ttlMs);
      await multi.exec();
    },
    setManyIfAbsent: async (entries) => {
      if (entries.length === 0) return [];
      const redis = await connected();
      const multi = redis.multi();
      for (const entry of entries) {
        multi.set(entry.key, encodeStoredValue(entry.value), {
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
    warming: redisWarmingCommands(
      async (script, key, args) =>
        (await connected()).eval(script, { keys: [key], arguments: [...args] }),
      async () => usedMemoryOf(await (await connected()).info('memory')),
    ),
    connect: async () => {
      if (client.isOpen) return;
      const opened = client.connect().then(
        () => undefined,
        (error: unknown) => {
          options.onError(error);
        },
      );
      // A Redis that is down keeps the client retrying in the background: a start waits 2 s.
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 2_000);
      });
      await Promise.race([opened, waited]);
      clearTimeout(timer);
    },
    reconnect: () => {
      // The next command's `connected()` opens it again.
      if (client.isOpen) client.destroy();
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

export interface RedisClusterStoreOptions {
  /** Seed nodes, `redis://` or `rediss://` URLs; the cluster's topology is read from them. */
  readonly nodes: ReadonlyArray<string>;
  readonly onError: (error: unknown) => void;
  /** Told how many nodes each command batch went to: its round trips. */
  readonly onRoundTrips?: (nodes: number) => void;
}

/**
 * The shared L2 on a Redis Cluster, through @keyv/redis's `createCluster`. Keys carry hash tags
 * (`buildCacheKey`), so one patient's entries and generation share a slot. A cluster refuses
 * MGET and MULTI across slots, so `getMany` sends one MGET per slot and `setMany` one MULTI per
 * slot, all in the same tick: node-redis writes every command bound for one node in one go, so
 * a read costs one round trip per node it touches (`onRoundTrips`). Redirections
 * (MOVED, ASK) and topology changes are the cluster client's. As for one Redis: no per-command
 * timeout (the guard's), and no offline queue.
 */
export function createRedisClusterStore(options: RedisClusterStoreOptions): CacheStore {
  const [first] = options.nodes;
  if (first === undefined) throw new Error('REDIS_CLUSTER_NODES names no node');
  const seed = new URL(first);
  const cluster = createCluster({
    rootNodes: options.nodes.map((url) => ({ url })),
    defaults: {
      // Every node of one cluster takes the same credentials and TLS as the first seed.
      ...(seed.username === '' ? {} : { username: decodeURIComponent(seed.username) }),
      ...(seed.password === '' ? {} : { password: decodeURIComponent(seed.password) }),
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 2_000,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000),
        ...(seed.protocol === 'rediss:' ? { tls: true as const } : {}),
      },
    },
  });
  cluster.on('error', options.onError);
  // Keyv over the cluster, as over one Redis (createKeyv takes a single client only); keys
  // unprefixed, and values this store's own frames.
  const keyv = new Keyv<string>(
    new KeyvRedis(cluster, { throwOnErrors: true, throwOnConnectError: true }),
    { useKeyPrefix: false },
  );
  keyv.on('error', options.onError);
  keyv.serialize = undefined;
  keyv.deserialize = undefined;
  const binary = cluster.withTypeMapping({ [BLOB_STRING]: Buffer });
  let opening: Promise<unknown> | undefined;

  const connected = async () => {
    if (!cluster.isOpen) {
      opening ??= cluster.connect().finally(() => {
        opening = undefined;
      });
      await opening;
    }
    return cluster;
  };
  /** Keys grouped by slot, with their positions; counts the nodes the groups go to. */
  const bySlot = (keys: ReadonlyArray<string>) => {
    const groups = new Map<number, { keys: string[]; at: number[] }>();
    keys.forEach((key, i) => {
      const slot = slotOf(key);
      let group = groups.get(slot);
      if (group === undefined) {
        group = { keys: [], at: [] };
        groups.set(slot, group);
      }
      group.keys.push(key);
      group.at.push(i);
    });
    const nodes = new Set<string>();
    for (const slot of groups.keys()) {
      const master = cluster.slots[slot]?.master;
      nodes.add(master === undefined ? `slot ${slot}` : `${master.host}:${master.port}`);
    }
    options.onRoundTrips?.(nodes.size);
    return groups;
  };

  return {
    kind: 'redis',
    getMany: async (keys) => {
      if (keys.length === 0) return [];
      await connected();
      const values: Array<string | undefined> = new Array<string | undefined>(keys.length);
      await Promise.all(
        [...bySlot(keys).values()].map(async (group) => {
          const raw = await binary.mGet(group.keys);
          raw.forEach((value, j) => {
            values[group.at[j] as number] = decodeStoredValue(value);
          });
        }),
      );
      return values;
    },
    setMany: async (entries, touch = []) => {
      if (entries.length === 0 && touch.length === 0) return;
      await connected();
      const slots = new Map<
        number,
        { entries: (typeof entries)[number][]; touch: (typeof touch)[number][] }
      >();
      const groupOf = (key: string) => {
        const slot = slotOf(key);
        let group = slots.get(slot);
        if (group === undefined) {
          group = { entries: [], touch: [] };
          slots.set(slot, group);
        }
        return group;
      };
      for (const entry of entries) groupOf(entry.key).entries.push(entry);
      for (const t of touch) groupOf(t.key).touch.push(t);
      bySlot([...entries.map((e) => e.key), ...touch.map((t) => t.key)]);
      // A patient's entries and the touch of its generation share a slot: one MULTI each.
      await Promise.all(
        [...slots.values()].map(async (group) => {
          const routing = group.entries[0]?.key ?? group.touch[0]?.key;
          const multi = cluster.multi(routing);
          for (const entry of group.entries) {
            multi.set(entry.key, encodeStoredValue(entry.value), {
              expiration: { type: 'PX', value: entry.ttlMs },
            });
          }
          for (const t of group.touch) multi.pExpire(t.key, t.ttlMs);
          await multi.exec();
        }),
      );
    },
    setManyIfAbsent: async (entries) => {
      if (entries.length === 0) return [];
      await connected();
      bySlot(entries.map((e) => e.key));
      const replies = await Promise.all(
        entries.map((entry) =>
          cluster.set(entry.key, encodeStoredValue(entry.value), {
            condition: 'NX',
            expiration: { type: 'PX', value: entry.ttlMs },
          }),
        ),
      );
      return replies.map((reply) => reply !== null);
    },
    warming: redisWarmingCommands(
      async (script, key, args) =>
        (await connected()).eval(script, { keys: [key], arguments: [...args] }),
      async () => {
        const redis = await connected();
        const used = await Promise.all(
          redis.masters.map(async (master) =>
            usedMemoryOf(await (await redis.nodeClient(master)).info('memory')),
          ),
        );
        return used.reduce((a, b) => a + b, 0);
      },
    ),
    ping: async () => {
      // Every master: a cluster with one master down serves none of its slots.
      const redis = await connected();
      await Promise.all(
        redis.masters.map(async (master) => {
          await (await redis.nodeClient(master)).ping();
        }),
      );
    },
    connect: async () => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        connected().then(
          () => undefined,
          (error: unknown) => {
            options.onError(error);
          },
        ),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, 2_000);
        }),
      ]);
      clearTimeout(timer);
    },
    reconnect: () => {
      if (cluster.isOpen) cluster.destroy();
    },
    close: async () => {
      if (!cluster.isOpen) return;
      const closed = cluster.close().then(
        () => true,
        () => false,
      );
      const timedOut = new Promise<boolean>((resolve) => {
        setTimeout(() => {
          resolve(false);
        }, 1_000).unref();
      });
      if (!(await Promise.race([closed, timedOut]))) cluster.destroy();
    },
  };
}

// RESP_TYPES.BLOB_STRING of node-redis ('$'), which @keyv/redis does not re-export.
const BLOB_STRING = 36;
// A value's first byte says how its string is stored. Neither byte ever starts UTF-8 text, so a
// value another writer left (or one of Keyv's JSON wrappers) reads as present but not ours.
const LATIN1 = 0xf5;
const UTF8 = 0xf6;
const WIDE = /[\u0100-\uffff]/;

/**
 * A value as this store keeps it in Redis: a tag byte, then the string's bytes. A sealed value
 * is a binary string (every character a byte) and is kept byte for byte; any other string as
 * UTF-8.
 */
export function encodeStoredValue(value: string): Buffer {
  const wide = WIDE.test(value);
  const bytes = Buffer.allocUnsafe(1 + (wide ? Buffer.byteLength(value, 'utf8') : value.length));
  bytes[0] = wide ? UTF8 : LATIN1;
  bytes.write(value, 1, wide ? 'utf8' : 'latin1');
  return bytes;
}

/** A raw Redis value; '' when it is present but not something this store wrote. */
function decodeStoredValue(raw: Buffer | null): string | undefined {
  if (raw === null) return undefined;
  if (raw[0] === LATIN1) return raw.toString('latin1', 1);
  if (raw[0] === UTF8) return raw.toString('utf8', 1);
  return '';
}
