import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { buildCacheKey } from '../cache/cacheKey.js';
import type { L2Cache } from '../cache/l2Cache.js';
import { writeToL2 } from '../cache/writeToL2.js';

// A registration is refreshed at most this often, so that a hot query costs no write per use.
const REFRESH_INTERVAL_MS = 60 * 60 * 1000;

/**
 * The store of automatic persisted queries: L2 itself, so that a query registered on one
 * instance runs on every other. Documents hold no PHI; they are sealed like every L2 value,
 * and live `ttlSeconds` since their last use.
 */
export function createApqCache(l2: L2Cache, ttlSeconds: number): KeyValueCache {
  const refreshed = new Map<string, number>();
  const keyOf = (hash: string) => buildCacheKey(l2.space, { kind: 'document', hash });
  const policy = { cacheClass: 'reference', maxAgeSeconds: ttlSeconds } as const;
  const write = (hash: string, query: string) =>
    writeToL2(l2.store, l2.sealer, [{ key: keyOf(hash), plaintext: query, policy }]);

  return {
    get: async (hash) => {
      const key = keyOf(hash);
      const [sealed] = (await l2.store.getMany([key])) ?? [];
      const query = sealed === undefined ? undefined : l2.sealer.open(key, sealed);
      if (query !== undefined && Date.now() - (refreshed.get(hash) ?? 0) > REFRESH_INTERVAL_MS) {
        refreshed.set(hash, Date.now());
        void write(hash, query);
      }
      return query;
    },
    set: async (hash, query) => {
      refreshed.set(hash, Date.now());
      await write(hash, query);
    },
    delete: () => Promise.resolve(true),
  };
}
