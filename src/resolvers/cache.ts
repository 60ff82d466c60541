import { z } from 'zod';
import type { GenerationScope } from '../cache/cacheKey.js';
import { ENTITY_NAMES, type EntityName } from '../db/entities.js';
import { insertAuditRow } from '../db/mutations/insertAuditRow.js';
import { isUuid, normalizeId } from '../graphql/ids.js';
import { validateInput } from '../graphql/validateInput.js';
import type { Resolvers } from '../generated/graphql.js';

const purgeArgs = z.object({
  patientId: z.string().refine(isUuid, 'must be a uuid').nullish(),
  type: z.enum(ENTITY_NAMES as [EntityName, ...EntityName[]]).nullish(),
});

export const cacheResolvers: Resolvers = {
  Mutation: {
    purgeCache: async (_root, args, ctx) => {
      const { patientId, type } = validateInput(purgeArgs, args, 'arguments');
      const scopes = purgeScopes(patientId ?? undefined, type ?? undefined);
      // Audited before it takes effect, as a write is: a purge whose row cannot be inserted
      // does not happen, and the admin is told so.
      await insertAuditRow(
        ctx.db,
        ctx.audit.purgeRow({
          resourceType: 'Cache',
          resourceId: type ?? null,
          patientId: patientId === undefined || patientId === null ? null : normalizeId(patientId),
        }),
      );
      await ctx.purge(scopes);
      return scopes.length;
    },
  },
};

/**
 * What a purge advances, each in constant time however many entries it covers: one patient
 * (their PHI and every search), the tenant's reference data, or the whole tenant.
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
