import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { createHash } from 'node:crypto';
import { printSchema, type DocumentNode, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { TrustedOperation } from '../persisted/trustedDocuments.js';

/**
 * Apollo's store of parsed and validated documents, which the request gate reads too, so that
 * a document Apollo has seen is parsed by neither of them again.
 */
export interface DocumentStore extends KeyValueCache<DocumentNode> {
  /** The validated document of this query text, if Apollo has stored it. Synchronous. */
  documentOf(queryHash: string): DocumentNode | undefined;
}

const MAX_DOCUMENTS = 1_000;

/**
 * Creates the store, holding every manifest operation from the start. Apollo keys it by the
 * SHA-256 of the schema's SDL and of the query (for a manifest operation, its id).
 */
export function createDocumentStore(
  schema: GraphQLSchema,
  trusted: ReadonlyMap<string, TrustedOperation>,
): DocumentStore {
  const documents = new LRUCache<string, DocumentNode>({ max: MAX_DOCUMENTS });
  const prefix = `${createHash('sha256').update(printSchema(schema)).digest('hex')}:`;
  for (const operation of trusted.values())
    documents.set(prefix + operation.id, operation.document);
  return {
    get: (key) => Promise.resolve(documents.get(key)),
    set: (key, value) => {
      documents.set(key, value);
      return Promise.resolve();
    },
    delete: (key) => Promise.resolve(documents.delete(key)),
    documentOf: (queryHash) => documents.get(prefix + queryHash),
  };
}
