import { z } from 'zod';
import type { GenerationScope } from '../cache/cacheKey.js';
import { publishInvalidation } from '../cache/invalidationFeed.js';
import type { EntityName } from '../db/entities.js';
import { insertAuditRow } from '../db/mutations/insertAuditRow.js';
import { isUuid, normalizeId } from '../graphql/ids.js';
import { validateInput } from '../graphql/validateInput.js';
import type { Resolvers } from '../generated/graphql.js';

// `type` is a CacheEntityType: GraphQL refuses any other value before the resolver runs.
const purgeArgs = z.object({
  patientId: z.string().refine(isUuid, 'must be a uuid').nullish(),
});

export const cacheResolvers: Resolvers = {
  Query: {
    cacheStats: (_root, _args, ctx) => ctx.cacheStats(),
  },
  Mutation: {
    purgeCache: async (_root, args, ctx) => {
      const { patientId } = validateInput(purgeArgs, { patientId: args.patientId }, 'arguments');
      const { type } = args;
      const scopes = purgeScopes(patientId ?? undefined, type ?? undefined);
      // Audited before it takes effect, as a write is: a purge whose row cannot be inserted
      // does not happen, and the admin is told so. Published with its row, so that every
      // instance hears of it through Postgres, whatever state Redis is in.
      const row = ctx.audit.purgeRow({
        resourceType: 'Cache',
        resourceId: type ?? null,
        patientId: patientId === undefined || patientId === null ? null : normalizeId(patientId),
      });
      const seq = await ctx.db.transaction(async (tx) => {
        await insertAuditRow(tx, row);
        return publishInvalidation(tx, ctx.principal.tenantId, scopes);
      });
      await ctx.purge(scopes, seq);
      return scopes.length;
    },
  },
};

/**
 * What a purge advances, each in constant time however many entries it covers: one patient
 * (their PHI and every search), the tenant's reference data, or the whole tenant. The
 * mutation answers with their number, which schema/query.graphql documents.
 */
function purgeScopes(
  patientId: string | undefined,
  type: EntityName | undefined,
): GenerationScope[] {
  if (patientId !== undefined)
    return [{ kind: 'patient', patientId: normalizeId(patientId) }, { kind: 'search' }];
  if (type === 'Doctor' || type === 'Department') return [{ kind: 'reference' }];
  return [{ kind: 'tenant' }];
}
