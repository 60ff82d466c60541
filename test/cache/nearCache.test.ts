import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCacheMetrics } from '../../src/cache/cacheMetrics.js';
import type { GenerationScope } from '../../src/cache/cacheKey.js';
import type { EntryPolicy } from '../../src/cache/entryPolicies.js';
import { createGuardedStore, type GuardedStore } from '../../src/cache/guardedStore.js';
import { createL2Cache, type L2Cache } from '../../src/cache/l2Cache.js';
import { createMemoryStore } from '../../src/cache/memoryStore.js';
import { createNearCache, type KeptEntry } from '../../src/cache/nearCache.js';
import { createSealer } from '../../src/cache/sealer.js';
import type { CacheStore } from '../../src/cache/store.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { metricValue } from '../support/metricValue.js';

const scope: GenerationScope = { kind: 'patient', patientId: 'p1' };
const entry = { key: 'nc:v:t1:Patient:p1', scope, type: 'Patient' } as const;
const phi: EntryPolicy = { cacheClass: 'phi', maxAgeSeconds: 300 };

function kept(overrides: Partial<KeptEntry> = {}): KeptEntry {
  return {
    value: { id: 'p1' },
    stamp: 'e.t.g',
    tenantKey: 'gen:tenant',
    scopeKey: 'gen:patient:p1',
    tenantToken: 't',
    scopeToken: 'g',
    writtenAtMs: Date.now(),
    ttlMs: 300_000,
    jsonLength: 20,
    ...overrides,
  };
}

/** Processes sharing one L2 store, each with its own near cache, as instances share Redis. */
function processes(store: CacheStore = createMemoryStore({ maxBytes: 1 << 20, onError: () => 0 })) {
  const guarded = createGuardedStore(
    store,
    { commandTimeoutMs: 1000, resetTimeoutMs: 1000 },
    createCacheMetrics(new Registry()),
  );
  const make = () => {
    const registry = new Registry();
    const l2 = createL2Cache({
      store: guarded,
      sealer: createSealer([Buffer.alloc(32, 5)]),
      space: { prefix: 'nc', schemaVersion: 'v', searchKey: Buffer.alloc(32) },
      metrics: createCacheMetrics(registry),
      logger: createLogger({ level: 'silent' }),
      near: { ttlMs: 5_000, maxBytes: 1 << 20 },
    });
    const nearHits = () =>
      metricValue(registry, 'caregraph_cache_requests_total', { layer: 'near', type: 'Patient' });
    return { l2, nearHits };
  };
  return { store: guarded, a: make(), b: make() };
}

/** One request that reads the entry's generations, then writes it: a fill after a miss. */
async function fill(l2: L2Cache, value: unknown, policy = phi) {
  const request = l2.forRequest('t1');
  await request.read([entry]);
  await request.write([{ ...entry, value, policy }]);
}
const read = async (l2: L2Cache) => (await l2.forRequest('t1').read([entry]))[0];

describe('createNearCache', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stays within its memory cap, evicting the least recently used', () => {
    const near = createNearCache({ ttlMs: 10_000, maxBytes: 50_000 });
    for (let i = 0; i < 100; i++) near.keep(`k${i}`, kept({ jsonLength: 1_000 }));
    expect(near.keys().length).toBeGreaterThan(5);
    expect(near.keys().length).toBeLessThan(25);
    expect(near.get('k99')).toBeDefined();
    expect(near.get('k0')).toBeUndefined();
    // One copy larger than the whole cap is not kept at all.
    near.keep('huge', kept({ jsonLength: 100_000 }));
    expect(near.get('huge')).toBeUndefined();
  });

  it('serves a copy neither past the near TTL nor past the TTL sealed into the entry', () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    const near = createNearCache({ ttlMs: 5_000, maxBytes: 1 << 20 });
    near.keep('fresh', kept());
    // Written 9 s ago with a TTL of 10 s: one second left, whatever the near TTL.
    near.keep('old', kept({ writtenAtMs: Date.now() - 9_000, ttlMs: 10_000 }));
    near.keep('dead', kept({ writtenAtMs: Date.now() - 10_000, ttlMs: 10_000 }));
    expect(near.get('dead')).toBeUndefined();
    vi.advanceTimersByTime(999);
    expect(near.get('old')).toBeDefined();
    vi.advanceTimersByTime(1);
    expect(near.get('old')).toBeUndefined();
    expect(near.get('fresh')).toBeDefined();
    vi.advanceTimersByTime(4_000);
    expect(near.get('fresh')).toBeUndefined();
  });

  it('serves no copy past its sealed TTL when only the wall clock moves', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const near = createNearCache({ ttlMs: 5_000, maxBytes: 1 << 20 });
    near.keep('k', kept({ ttlMs: 1_000 }));
    vi.advanceTimersByTime(1_000);
    expect(near.get('k')).toBeUndefined();
  });

  it('drops every copy of a scope, or of a tenant, once another generation is read for it', () => {
    const near = createNearCache({ ttlMs: 5_000, maxBytes: 1 << 20 });
    near.keep('p1:a', kept());
    near.keep('p1:b', kept());
    near.keep('p2:a', kept({ scopeKey: 'gen:patient:p2' }));
    near.observe('gen:patient:p1', 'g', 'generation');
    expect(near.keys().sort()).toEqual(['p1:a', 'p1:b', 'p2:a']);
    near.observe('gen:patient:p1', 'g2', 'generation');
    expect(near.keys()).toEqual(['p2:a']);
    // An absent or unreadable generation reads as '' here: nothing under it is servable.
    near.observe('gen:patient:p2', '', 'generation');
    expect(near.keys()).toEqual([]);
    near.keep('p1:a', kept());
    near.observe('gen:tenant', 't2', 'generation');
    expect(near.keys()).toEqual([]);
    near.keep('p1:a', kept());
    near.observe('epoch', 'e1', 'epoch');
    near.observe('epoch', 'e2', 'epoch');
    expect(near.keys()).toEqual([]);
  });

  it('freezes what it keeps, so that no request changes what another is served', () => {
    const near = createNearCache({ ttlMs: 5_000, maxBytes: 1 << 20 });
    near.keep('k', kept({ value: { id: 'p1', ids: ['r1'], nested: { a: 1 } } }));
    const value = near.get('k')?.value as { ids: string[]; nested: { a: number } };
    expect(() => value.ids.push('r2')).toThrow(TypeError);
    expect(() => {
      value.nested.a = 2;
    }).toThrow(TypeError);
  });

  it('is configured for a few seconds by default, and never for more than ten', () => {
    expect(loadConfig({}).cache).toMatchObject({
      nearTtlMs: 3_000,
      nearMaxBytes: 32 * 1024 * 1024,
    });
    expect(loadConfig({ NEAR_CACHE_TTL_MS: '0' }).cache.nearTtlMs).toBe(0);
    expect(() => loadConfig({ NEAR_CACHE_TTL_MS: '10001' })).toThrow(/NEAR_CACHE_TTL_MS/);
    expect(() => loadConfig({ NEAR_CACHE_MAX_BYTES: '-1' })).toThrow(/NEAR_CACHE_MAX_BYTES/);
  });

  it('keeps nothing when its TTL or its cap is 0', () => {
    for (const options of [
      { ttlMs: 0, maxBytes: 1 << 20 },
      { ttlMs: 5_000, maxBytes: 0 },
    ]) {
      const near = createNearCache(options);
      near.keep('k', kept());
      expect(near.enabled).toBe(false);
      expect(near.get('k')).toBeUndefined();
    }
  });
});

describe('the near cache of a request cache', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("never serves a copy once another process's write advanced the generation", async () => {
    const { a, b } = processes();
    await fill(b.l2, { v: 0 });
    let servedNear = 0;
    for (let i = 1; i <= 30; i++) {
      // A reads twice: from L2, then from its near copy.
      expect(await read(a.l2)).toEqual({ v: i - 1 });
      const before = await a.nearHits();
      expect(await read(a.l2)).toEqual({ v: i - 1 });
      servedNear += (await a.nearHits()) - before;
      // B writes: a new generation, as a mutation's invalidation leaves it, then the new value.
      await b.l2.invalidate('t1', [scope]);
      expect(await read(a.l2)).toBeUndefined();
      await fill(b.l2, { v: i });
    }
    expect(servedNear).toBe(30);
  });

  it('fetches no body it holds a copy of, and answers from it alone once the stamps are read', async () => {
    const { store, a } = processes();
    await fill(a.l2, { v: 1 });
    await read(a.l2);
    const asked: string[][] = [];
    const getMany = store.getMany.bind(store);
    (store as { getMany: GuardedStore['getMany'] }).getMany = (keys) => {
      asked.push([...keys]);
      return getMany(keys);
    };
    const request = a.l2.forRequest('t1');
    expect(await request.read([entry])).toEqual([{ v: 1 }]);
    expect(asked).toHaveLength(1);
    expect(asked[0]).not.toContain(entry.key);
    expect(asked[0]).toHaveLength(3);
    // The same request again: its stamps are known, the copy matches, no round trip at all.
    expect(await request.read([entry])).toEqual([{ v: 1 }]);
    expect(asked).toHaveLength(1);
  });

  it('serves no copy while the breaker is open, nor when L2 cannot be read, nor untrusted', async () => {
    const { store, a } = processes();
    await fill(a.l2, { v: 1 });
    await read(a.l2);
    const mutable = store as { getMany: GuardedStore['getMany']; setMany: GuardedStore['setMany'] };
    const { getMany, setMany } = mutable;
    const before = await a.nearHits();
    const asked: string[][] = [];
    mutable.getMany = (keys) => {
      asked.push([...keys]);
      return getMany(keys);
    };
    Object.defineProperty(store, 'open', { get: () => true, configurable: true });
    // Answered from L2 itself, as if it had no copy.
    expect(await read(a.l2)).toEqual({ v: 1 });
    expect(asked.at(-1)).toContain(entry.key);
    expect(await a.nearHits()).toBe(before);
    Object.defineProperty(store, 'open', { get: () => false, configurable: true });

    // A request that read its stamps, and then finds L2 unreadable: not even the copy it
    // could check against them is served.
    const request = a.l2.forRequest('t1');
    expect(await request.read([entry])).toEqual([{ v: 1 }]);
    mutable.getMany = () => Promise.resolve(undefined);
    const other = { ...entry, key: 'nc:v:t1:Patient:p1:records' };
    expect(await request.read([entry, other])).toEqual([undefined, undefined]);
    expect(await read(a.l2)).toBeUndefined();
    mutable.getMany = getMany;

    // An invalidation was lost, and the flush that must come first cannot be written.
    mutable.setMany = () => Promise.resolve(false);
    store.markUntrusted();
    expect(await read(a.l2)).toBeUndefined();
    mutable.setMany = setMany;
  });

  it('never serves an entry past its TTL, even from a store that keeps it longer', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    // A store that ignores TTLs, as a misbehaving one would: only the sealed write time is left.
    const map = new Map<string, string>();
    const forever: CacheStore = {
      kind: 'memory',
      getMany: (keys) => Promise.resolve(keys.map((key) => map.get(key))),
      setMany: (entries) => {
        for (const e of entries) map.set(e.key, e.value);
        return Promise.resolve();
      },
      setManyIfAbsent: (entries) =>
        Promise.resolve(
          entries.map((e) => {
            if (map.has(e.key)) return false;
            map.set(e.key, e.value);
            return true;
          }),
        ),
      ping: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const { a, b } = processes(forever);
    await fill(a.l2, { v: 1 }, { cacheClass: 'phi', maxAgeSeconds: 2 });
    expect(await read(a.l2)).toEqual({ v: 1 });
    vi.advanceTimersByTime(1_999);
    expect(await read(a.l2)).toEqual({ v: 1 });
    vi.advanceTimersByTime(1);
    // From the near copy (A) and from the store (B, which holds no copy).
    expect(await read(a.l2)).toBeUndefined();
    expect(await read(b.l2)).toBeUndefined();
  });

  it('drops its copy of a key that this process writes again, under the same stamp', async () => {
    const { a } = processes();
    await fill(a.l2, { v: 1 });
    expect(await read(a.l2)).toEqual({ v: 1 });
    await fill(a.l2, { v: 2 });
    expect(a.l2.near.keys()).toEqual([]);
    expect(await read(a.l2)).toEqual({ v: 2 });
    expect(await read(a.l2)).toEqual({ v: 2 });
  });

  it('drops its copies of a scope at once when this process invalidates it', async () => {
    const { a } = processes();
    await fill(a.l2, { v: 1 });
    await read(a.l2);
    expect(a.l2.near.keys()).toEqual([entry.key]);
    await a.l2.invalidate('t1', [scope]);
    expect(a.l2.near.keys()).toEqual([]);
  });
});
