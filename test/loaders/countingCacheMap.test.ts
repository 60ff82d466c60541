import DataLoader from 'dataloader';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createCacheMetrics } from '../../src/cache/cacheMetrics.js';
import { countingCacheMap, primeUncounted } from '../../src/loaders/countingCacheMap.js';

function countedLoader() {
  const request = { hits: 0, misses: 0 };
  const map = countingCacheMap<string>(createCacheMetrics(new Registry()), 'Doctor', request);
  const loader = primeUncounted(
    new DataLoader<string, string>((ids) => Promise.resolve(ids.map((id) => `row ${id}`)), {
      cacheMap: map,
    }),
    map,
  );
  return { loader, request };
}

describe('countingCacheMap', () => {
  it('counts a load of a new key as a miss and a load of a known key as a hit', async () => {
    const { loader, request } = countedLoader();
    await loader.load('a');
    await loader.load('a');
    await loader.loadMany(['a', 'b']);
    expect(request).toEqual({ hits: 2, misses: 2 });
  });

  it('does not count primes, only the loads that find what they primed', async () => {
    const { loader, request } = countedLoader();
    loader.prime('a', 'row a');
    loader.prime('b', 'row b');
    loader.prime('a', 'again');
    expect(request).toEqual({ hits: 0, misses: 0 });
    expect(await loader.load('a')).toBe('row a');
    expect(request).toEqual({ hits: 1, misses: 0 });
  });

  it('counts again after a prime that threw', () => {
    const { request } = countedLoader();
    const map = countingCacheMap<string>(createCacheMetrics(new Registry()), 'Doctor', request);
    expect(() =>
      map.uncounted(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    void map.get('x');
    expect(request.misses).toBe(1);
  });
});
