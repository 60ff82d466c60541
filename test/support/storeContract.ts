import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { CacheStore } from '../../src/cache/store.js';

/** The contract every L2 store meets. */
export function storeContract(
  name: string,
  create: () => CacheStore,
  options: { fakeTimers: boolean },
) {
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
