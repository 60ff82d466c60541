import { getNamedType, type GraphQLResolveInfo } from 'graphql';
import type { RequestContext } from '../graphql/context.js';

const ROOT_TYPES: ReadonlySet<string> = new Set(['Query', 'Mutation']);

/**
 * Audits a refusal by a rule, once per entity per request:
 * - a field of a patient: the patient;
 * - a root field, refused before anything was loaded: what its arguments named.
 */
export function recordRefusal(
  ctx: RequestContext,
  parent: unknown,
  args: Record<string, unknown>,
  info: GraphQLResolveInfo,
): void {
  const parentType = info.parentType.name;
  if (!ROOT_TYPES.has(parentType)) {
    if (parentType === 'Patient' && typeof parent === 'object' && parent !== null) {
      const id = (parent as { id: string }).id;
      ctx.audit.denied({ resourceType: 'Patient', resourceId: id, patientId: id });
    }
    return;
  }
  const input = args.input as { patientId?: unknown } | undefined;
  const named = [args.id, args.patientId, input?.patientId].find(
    (v): v is string => typeof v === 'string',
  );
  const resourceType = getNamedType(info.returnType).name;
  ctx.audit.denied({
    resourceType,
    resourceId: named ?? null,
    patientId:
      resourceType === 'Patient' || args.patientId !== undefined || input?.patientId !== undefined
        ? (named ?? null)
        : null,
  });
}
