import { describe, expect, it } from 'vitest';
import { effectiveTtlSeconds, writeToL2 } from '../../src/cache/writeToL2.js';
import type { GuardedStore } from '../../src/cache/guardedStore.js';
import { createSealer } from '../../src/cache/sealer.js';
import type { CacheEntry } from '../../src/cache/store.js';

function recordingStore(): GuardedStore & { written: CacheEntry[] } {
  const written: CacheEntry[] = [];
  return {
    kind: 'memory',
    written,
    getMany: () => Promise.resolve([]),
    setMany: (entries) => {
      written.push(...entries);
      return Promise.resolve(true);
    },
    setManyIfAbsent: (entries) => {
      written.push(...entries);
      return Promise.resolve(entries.map(() => true));
    },
    untrusted: false,
    markTrusted: () => undefined,
    markUntrusted: () => undefined,
    open: false,
    ping: () => Promise.resolve(true),
    connect: () => Promise.resolve(),
    warming: undefined,
    close: () => Promise.resolve(),
  };
}

describe('writeToL2', () => {
  it('caps PHI at 300 s whatever the caller asks', async () => {
    const store = recordingStore();
    await writeToL2(store, createSealer([Buffer.alloc(32, 1)]), [
      { key: 'phi', plaintext: 'x', policy: { cacheClass: 'phi', maxAgeSeconds: 86_400 } },
      { key: 'ref', plaintext: 'x', policy: { cacheClass: 'reference', maxAgeSeconds: 7_200 } },
    ]);
    expect(store.written.map((e) => [e.key, e.ttlMs])).toEqual([
      ['phi', 300_000],
      ['ref', 7_200_000],
    ]);
  });

  it('seals every value and skips entries with no lifetime', async () => {
    const store = recordingStore();
    await writeToL2(store, createSealer([Buffer.alloc(32, 1)]), [
      { key: 'a', plaintext: 'Jane Doe', policy: { cacheClass: 'phi', maxAgeSeconds: 60 } },
      { key: 'b', plaintext: 'x', policy: { cacheClass: 'phi', maxAgeSeconds: 0 } },
    ]);
    expect(store.written).toHaveLength(1);
    expect(store.written[0]?.value).not.toContain('Jane');
  });

  it('computes the effective TTL of a policy', () => {
    expect(effectiveTtlSeconds({ cacheClass: 'phi', maxAgeSeconds: 30 })).toBe(30);
    expect(effectiveTtlSeconds({ cacheClass: 'phi', maxAgeSeconds: 301 })).toBe(300);
    expect(effectiveTtlSeconds({ cacheClass: 'reference', maxAgeSeconds: 86_400 })).toBe(86_400);
  });
});
