import { randomBytes } from 'node:crypto';
import { createClient } from '@keyv/redis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStore } from '../../src/cache/memoryStore.js';
import { createRedisStore } from '../../src/cache/redisStore.js';
import type { CacheStore } from '../../src/cache/store.js';

const redisUrl = process.env.REDIS_URL;
const onError = () => undefined;

/** The contract every L2 store meets. */
function storeContract(name: string, create: () => CacheStore, options: { fakeTimers: boolean }) {
  describe(`${name} store`, () => {
    const store = create();
    const prefix = `contract:${randomBytes(4).toString('hex')}`;
    const key = (k: string) => `${prefix}:${k}`;
    afterAll(async () => {
      await store.close();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('answers missing keys with undefined, in key order', async () => {
      await store.setMany([{ key: key('a'), value: 'A', ttlMs: 60_000 }]);
      await expect(store.getMany([key('missing'), key('a')])).resolves.toEqual([undefined, 'A']);
      await expect(store.getMany([])).resolves.toEqual([]);
    });

    it('writes many entries in one call, overwriting', async () => {
      await store.setMany([
        { key: key('b'), value: 'one', ttlMs: 60_000 },
        { key: key('c'), value: 'two', ttlMs: 60_000 },
      ]);
      await store.setMany([{ key: key('b'), value: 'three', ttlMs: 60_000 }]);
      await expect(store.getMany([key('b'), key('c')])).resolves.toEqual(['three', 'two']);
    });

    it('sets if absent, and says which entries it wrote', async () => {
      await store.setMany([{ key: key('d'), value: 'kept', ttlMs: 60_000 }]);
      const written = await store.setManyIfAbsent([
        { key: key('d'), value: 'lost', ttlMs: 60_000 },
        { key: key('e'), value: 'new', ttlMs: 60_000 },
      ]);
      expect(written).toEqual([false, true]);
      await expect(store.getMany([key('d'), key('e')])).resolves.toEqual(['kept', 'new']);
    });

    it('expires an entry after its own TTL', async () => {
      if (options.fakeTimers) vi.useFakeTimers({ toFake: ['Date'] });
      await store.setMany([
        { key: key('short'), value: 's', ttlMs: 200 },
        { key: key('long'), value: 'l', ttlMs: 3_600_000 },
      ]);
      if (options.fakeTimers) vi.advanceTimersByTime(300);
      else await new Promise((resolve) => setTimeout(resolve, 300));
      await expect(store.getMany([key('short'), key('long')])).resolves.toEqual([undefined, 'l']);
    });

    it('extends the TTL of touched keys in the same write, and leaves a missing one missing', async () => {
      if (options.fakeTimers) vi.useFakeTimers({ toFake: ['Date'] });
      await store.setMany([
        { key: key('gen'), value: 'g1', ttlMs: 200 },
        { key: key('untouched'), value: 'u', ttlMs: 200 },
      ]);
      await store.setMany(
        [{ key: key('entry'), value: 'e', ttlMs: 3_600_000 }],
        [
          { key: key('gen'), ttlMs: 3_600_000 },
          { key: key('never-written'), ttlMs: 3_600_000 },
        ],
      );
      if (options.fakeTimers) vi.advanceTimersByTime(300);
      else await new Promise((resolve) => setTimeout(resolve, 300));
      await expect(
        store.getMany([key('gen'), key('entry'), key('untouched'), key('never-written')]),
      ).resolves.toEqual(['g1', 'e', undefined, undefined]);
    });

    it('never brings back, by a touch, a value that a concurrent write replaced', async () => {
      await store.setMany([{ key: key('bumped'), value: 'v0', ttlMs: 60_000 }]);
      // Touches and overwrites of one key, interleaved as concurrent readers and writers send them.
      const calls: Array<Promise<void>> = [];
      for (let i = 1; i <= 20; i++) {
        calls.push(store.setMany([], [{ key: key('bumped'), ttlMs: 60_000 }]));
        calls.push(store.setMany([{ key: key('bumped'), value: `v${i}`, ttlMs: 60_000 }]));
        calls.push(
          store.setMany(
            [{ key: key(`entry${i}`), value: 'e', ttlMs: 60_000 }],
            [{ key: key('bumped'), ttlMs: 60_000 }],
          ),
        );
      }
      await Promise.all(calls);
      await expect(store.getMany([key('bumped')])).resolves.toEqual(['v20']);
    });
  });
}

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
