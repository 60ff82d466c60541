import type { Sealer } from '../../src/cache/sealer.js';
import type { CacheStore } from '../../src/cache/store.js';

/**
 * An L2 that keeps nothing: every read misses and every write is dropped, with no I/O. It
 * turns caregraph into its L1-only (and N+1) baselines without touching the request path.
 */
export function createNullStore(): CacheStore {
  return {
    kind: 'none',
    getMany: (keys) => Promise.resolve(keys.map(() => undefined)),
    setMany: () => Promise.resolve(),
    setManyIfAbsent: (entries) => Promise.resolve(entries.map(() => true)),
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/**
 * No encryption: values reach the store as plaintext. Only the benchmark's sealing on/off pair
 * uses it, to measure what AES-GCM costs; no configuration can select it.
 */
export function createPlaintextSealer(): Sealer {
  return {
    seal: (_cacheKey, plaintext) => plaintext,
    open: (_cacheKey, value) => value,
  };
}
