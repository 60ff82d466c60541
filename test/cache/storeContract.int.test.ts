import { randomBytes } from 'node:crypto';
import { createClient } from '@keyv/redis';
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/cache/memoryStore.js';
import { createRedisClusterStore, createRedisStore } from '../../src/cache/redisStore.js';
import { storeContract } from '../support/storeContract.js';

const redisUrl = process.env.REDIS_URL;
const onError = () => undefined;

storeContract('in-process', () => createMemoryStore({ maxBytes: 1024 * 1024, onError }), {
  fakeTimers: true,
});

describe.runIf(redisUrl !== undefined)('redis specifics', () => {
  it('stores under exactly the given key, with a PX TTL', async () => {
    const store = createRedisStore({ url: redisUrl ?? '', onError });
    const client = createClient({ url: redisUrl });
    await client.connect();
    const key = `contract:${randomBytes(4).toString('hex')}:ttl`;
    try {
      await store.setMany([{ key, value: 'v', ttlMs: 300_000 }]);
      const ttl = await client.pTTL(key);
      expect(ttl).toBeGreaterThan(299_000);
      expect(ttl).toBeLessThanOrEqual(300_000);
      await store.setManyIfAbsent([{ key: `${key}:nx`, value: 'v', ttlMs: 30_000 }]);
      expect(await client.pTTL(`${key}:nx`)).toBeLessThanOrEqual(30_000);
    } finally {
      await client.quit();
      await store.close();
    }
  });
});

describe.runIf(redisUrl !== undefined)('redis values it did not write', () => {
  it('reads each as present but unreadable, without failing the others', async () => {
    const store = createRedisStore({ url: redisUrl ?? '', onError });
    const client = createClient({ url: redisUrl });
    await client.connect();
    const key = (k: string) => `contract:${randomBytes(4).toString('hex')}:${k}`;
    const foreign = ['garbage', '', '\u0000\xff', '{"value":5}', '{"nope":1}', 'null', '[1]'];
    const keys = foreign.map((_, i) => key(`foreign${i}`));
    const ours = key('ours');
    try {
      for (const [i, raw] of foreign.entries())
        await client.set(keys[i] ?? '', raw, { PX: 60_000 });
      await store.setMany([{ key: ours, value: 'kept', ttlMs: 60_000 }]);
      await expect(store.getMany([...keys, ours, key('missing')])).resolves.toEqual([
        ...foreign.map(() => ''),
        'kept',
        undefined,
      ]);
    } finally {
      await client.quit();
      await store.close();
    }
  });

  it('touches with a PEXPIRE in the write, not a SET', async () => {
    const store = createRedisStore({ url: redisUrl ?? '', onError });
    const client = createClient({ url: redisUrl });
    await client.connect();
    const gen = `contract:${randomBytes(4).toString('hex')}:gen`;
    try {
      await client.set(gen, 'raw, as another writer left it', { PX: 1_000 });
      await store.setMany(
        [{ key: `${gen}:entry`, value: 'e', ttlMs: 300_000 }],
        [{ key: gen, ttlMs: 300_000 }],
      );
      expect(await client.get(gen)).toBe('raw, as another writer left it');
      expect(await client.pTTL(gen)).toBeGreaterThan(299_000);
      expect(await client.pTTL(gen)).toBeLessThanOrEqual(300_000);
    } finally {
      await client.quit();
      await store.close();
    }
  });
});

if (redisUrl !== undefined)
  storeContract('redis', () => createRedisStore({ url: redisUrl, onError }), { fakeTimers: false });

// With REDIS_CLUSTER_NODES (`.ci/run` starts a cluster), the same contract on a Redis Cluster;
// test/cache/redisCluster.int.test.ts runs it on a cluster of its own too.
const clusterNodes = process.env.REDIS_CLUSTER_NODES?.split(',');
if (clusterNodes !== undefined)
  storeContract('redis cluster', () => createRedisClusterStore({ nodes: clusterNodes, onError }), {
    fakeTimers: false,
  });

describe('the in-process store', () => {
  it('stays within its memory cap, evicting the least recently used', async () => {
    const store = createMemoryStore({ maxBytes: 10_000, onError });
    const value = 'x'.repeat(1_000);
    for (let i = 0; i < 20; i++) await store.setMany([{ key: `k${i}`, value, ttlMs: 60_000 }]);
    const values = await store.getMany(Array.from({ length: 20 }, (_, i) => `k${i}`));
    const kept = values.filter((v) => v !== undefined).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(10);
    expect(values.at(-1)).toBe(value);
  });
});
