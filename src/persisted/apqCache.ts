import { PrefixingKeyValueCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import { Lexer, Source, TokenKind, type Token } from 'graphql';
import { LRUCache } from 'lru-cache';
import { buildCacheKey } from '../cache/cacheKey.js';
import type { L2Cache } from '../cache/l2Cache.js';
import { writeToL2 } from '../cache/writeToL2.js';
import type { TrustedOperation } from './trustedDocuments.js';

// A registration is refreshed at most this often, so that a hot query costs no write per use.
const REFRESH_INTERVAL_MS = 60 * 60 * 1000;
// A string literal (block strings included) or a comment in a document may be a name or a
// search term: such a document is kept no longer than PHI may be.
const LITERALS: ReadonlySet<TokenKind> = new Set([TokenKind.STRING, TokenKind.BLOCK_STRING]);

/**
 * Apollo's persisted-query cache. A manifest id answers with the manifest's body, from
 * memory, and is never registered. Any other hash is an automatic persisted query, kept in L2
 * itself so that a query registered on one instance runs on every other: sealed like every L2
 * value, for `ttlSeconds` since its last use, or for at most 300 s when its text holds a string
 * literal or a comment.
 */
export function createApqCache(
  l2: L2Cache,
  ttlSeconds: number,
  trusted: ReadonlyMap<string, TrustedOperation>,
): KeyValueCache {
  const refreshed = new LRUCache<string, number>({ max: 10_000 });
  const keyOf = (hash: string) => buildCacheKey(l2.space, { kind: 'document', hash });
  const write = (hash: string, query: string) =>
    writeToL2(l2.store, l2.sealer, [
      {
        key: keyOf(hash),
        plaintext: query,
        policy: mayHoldPhi(query)
          ? { cacheClass: 'phi', maxAgeSeconds: ttlSeconds }
          : { cacheClass: 'reference', maxAgeSeconds: ttlSeconds },
      },
    ]);

  // Apollo would prefix every key with "apq:"; the hash must reach this cache as sent, and the
  // L2 key is namespaced already.
  return PrefixingKeyValueCache.cacheDangerouslyDoesNotNeedPrefixesForIsolation({
    get: async (hash) => {
      const manifest = trusted.get(hash);
      if (manifest !== undefined) return manifest.body;
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
      if (trusted.has(hash)) return;
      refreshed.set(hash, Date.now());
      await write(hash, query);
    },
    delete: () => Promise.resolve(true),
  });
}

/**
 * Whether a document's text holds a string literal or a comment, by graphql's own lexer, so that
 * a `#` inside a string, or a quote inside a comment, is read as the parser reads it. Text the
 * lexer refuses counts as holding one: it is kept no longer than PHI either way.
 */
function mayHoldPhi(query: string): boolean {
  try {
    const lexer = new Lexer(new Source(query));
    let token: Token;
    do {
      token = lexer.advance();
      // advance() steps over comments, but links the last one before what it returns (EOF too).
      if (LITERALS.has(token.kind) || token.prev?.kind === TokenKind.COMMENT) return true;
    } while (token.kind !== TokenKind.EOF);
    return false;
  } catch {
    return true;
  }
}
