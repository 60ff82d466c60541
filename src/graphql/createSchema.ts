import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { applyPermissions } from '../permissions/permissions.js';
import type { CachePolicyMap } from '../policy/cachePolicy.js';
import { readCachePolicies } from '../policy/readCachePolicies.js';
import { resolvers } from '../resolvers/index.js';
import { loadTypeDefs } from './loadTypeDefs.js';

export interface ExecutableSchema {
  /** The schema with resolvers and the shield applied. */
  readonly schema: GraphQLSchema;
  /** The cache policy read from `@phi` and `@reference`. */
  readonly policies: CachePolicyMap;
}

/**
 * Builds the executable schema from `schema/*.graphql`.
 *
 * @throws CachePolicyError when a directive breaks a cache rule (a `@phi` maxAge over 300 s,
 *   for one), and AccessCoverageError when some field is covered by no access rule; the
 *   service refuses to start with either.
 */
export function createSchema(typeDefs: string = loadTypeDefs()): ExecutableSchema {
  const base = makeExecutableSchema({
    typeDefs,
    resolvers,
    resolverValidationOptions: { requireResolversToMatchSchema: 'error' },
  });
  const policies = readCachePolicies(base);
  return { schema: applyPermissions(base, policies), policies };
}
