import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { z } from 'zod';
import { cacheControlHeaders, type ResolvedPolicy } from '../http/cacheControl/headers.js';
import type { CachePolicyMap } from '../policy/cachePolicy.js';
import { resolvedPolicyOf } from '../http/cacheControl/documentPolicy.js';

/** A manifest operation, with what the server computes for it once, at start-up. */
export interface TrustedOperation {
  readonly id: string;
  readonly name: string;
  readonly type: 'query' | 'mutation' | 'subscription';
  readonly body: string;
  /** Parsed and validated against the schema at start-up. */
  readonly document: DocumentNode;
  /** Its cache policy: whether it can return PHI, and its smallest maxAge. */
  readonly policy: ResolvedPolicy;
  /** The Cache-Control a successful response gets. */
  readonly cacheControl: string;
}

// A relative manifest path is relative to the project, in src/ as in dist/.
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const manifestSchema = z.object({
  format: z.literal('apollo-persisted-query-manifest'),
  version: z.literal(1),
  operations: z.array(
    z.object({
      id: z.string().regex(/^[0-9a-f]{64}$/),
      name: z.string().min(1),
      type: z.enum(['query', 'mutation', 'subscription']),
      body: z.string().min(1),
    }),
  ),
});

/**
 * Loads an Apollo persisted-query manifest and prepares every operation in it: the id must be
 * the SHA-256 of the body, the body must parse and validate against the schema, and its cache
 * policy is computed once.
 *
 * @throws when the manifest is malformed, or an operation is not valid against the schema;
 *   the service refuses to start with it.
 */
export function loadTrustedDocuments(
  path: string,
  schema: GraphQLSchema,
  policies: CachePolicyMap,
): ReadonlyMap<string, TrustedOperation> {
  const manifest = manifestSchema.parse(
    JSON.parse(readFileSync(resolve(PROJECT_ROOT, path), 'utf8')),
  );
  const operations = new Map<string, TrustedOperation>();
  for (const operation of manifest.operations) {
    if (createHash('sha256').update(operation.body).digest('hex') !== operation.id) {
      throw new Error(`persisted query ${operation.name}: id is not the SHA-256 of its body`);
    }
    const document = parse(operation.body);
    const errors = validate(schema, document);
    if (errors.length > 0) {
      throw new Error(
        `persisted query ${operation.name} is not valid: ${errors.map((e) => e.message).join('; ')}`,
      );
    }
    const resolved = resolvedPolicyOf(schema, document, policies);
    const [[, cacheControl] = ['', 'no-store']] = cacheControlHeaders(resolved, {
      mutation: operation.type !== 'query',
      failed: false,
    });
    operations.set(operation.id, {
      ...operation,
      document,
      policy: resolved,
      cacheControl,
    });
  }
  return operations;
}
