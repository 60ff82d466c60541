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

    describe('warming commands', () => {
      const warming = () => {
        const commands = store.warming;
        if (commands === undefined) throw new Error(`the ${name} store has no warming commands`);
        return commands;
      };
      const pass = async (ms: number) => {
        if (options.fakeTimers) vi.advanceTimersByTime(ms);
        else await new Promise((resolve) => setTimeout(resolve, ms));
      };

      it('adds scores across merges and answers the highest first, up to a limit', async () => {
        const w = warming();
        await w.addToHotSet(
          key('hot1'),
          [
            ['a', 1],
            ['b', 5],
            ['c', 2],
          ],
          100,
          60_000,
        );
        await w.addToHotSet(key('hot1'), [['a', 10]], 100, 60_000);
        await expect(w.readHotSet(key('hot1'), 2, 1)).resolves.toEqual([
          ['a', 11],
          ['b', 5],
        ]);
        await expect(w.readHotSet(key('missing-hot'), 10, 1)).resolves.toEqual([]);
        await expect(w.hotSetSizes([key('hot1'), key('missing-hot')])).resolves.toEqual([3, 0]);
      });

      it('keeps only the highest members past its bound', async () => {
        const w = warming();
        const scores = Array.from({ length: 20 }, (_, i) => [`m${i}`, i + 1] as const);
        await w.addToHotSet(key('hot2'), scores, 5, 60_000);
        const top = await w.readHotSet(key('hot2'), 100, 1);
        expect(top.map(([member]) => member)).toEqual(['m19', 'm18', 'm17', 'm16', 'm15']);
      });

      it('decays every score as it is read, dropping members that fall under 1', async () => {
        const w = warming();
        await w.addToHotSet(
          key('hot3'),
          [
            ['x', 8],
            ['y', 1.5],
          ],
          100,
          60_000,
        );
        await expect(w.readHotSet(key('hot3'), 10, 0.5)).resolves.toEqual([['x', 4]]);
        await expect(w.readHotSet(key('hot3'), 10, 1)).resolves.toEqual([['x', 4]]);
      });

      it('expires a hot set after its TTL, which a read does not extend', async () => {
        if (options.fakeTimers) vi.useFakeTimers({ toFake: ['Date'] });
        const w = warming();
        await w.addToHotSet(key('hot4'), [['x', 8]], 100, 200);
        await w.readHotSet(key('hot4'), 10, 0.5);
        await pass(300);
        await expect(w.readHotSet(key('hot4'), 10, 1)).resolves.toEqual([]);
      });

      it('gives the lease to one owner at a time, renews it for its holder, and frees it on release', async () => {
        const w = warming();
        const lease = key('lease1');
        await expect(w.holdLease(lease, 'A', 60_000)).resolves.toBe(true);
        await expect(w.holdLease(lease, 'B', 60_000)).resolves.toBe(false);
        await expect(w.holdLease(lease, 'A', 60_000)).resolves.toBe(true);
        await w.releaseLease(lease, 'B');
        await expect(w.holdLease(lease, 'B', 60_000)).resolves.toBe(false);
        await w.releaseLease(lease, 'A');
        await expect(w.holdLease(lease, 'B', 60_000)).resolves.toBe(true);
      });

      it('hands the lease over once its holder stops renewing it', async () => {
        if (options.fakeTimers) vi.useFakeTimers({ toFake: ['Date'] });
        const w = warming();
        const lease = key('lease2');
        await expect(w.holdLease(lease, 'A', 200)).resolves.toBe(true);
        await expect(w.holdLease(lease, 'B', 200)).resolves.toBe(false);
        await pass(300);
        await expect(w.holdLease(lease, 'B', 200)).resolves.toBe(true);
        await expect(w.holdLease(lease, 'A', 200)).resolves.toBe(false);
      });

      it('says how much memory it uses', async () => {
        await store.setMany([{ key: key('mem'), value: 'x'.repeat(1000), ttlMs: 60_000 }]);
        expect(await warming().usedMemoryBytes()).toBeGreaterThan(0);
      });
    });
  });
}
