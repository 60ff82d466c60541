import type { EntityName, EntityRows } from '../db/entities.js';
import type { FinishWrite } from '../db/mutations/finishWrite.js';
import type { RequestContext } from '../graphql/context.js';

/**
 * How a write to an entity finishes in its transaction (`RequestContext.finishWrite`): its
 * audit row, where PHI entities name their patient and reference data names none, and its
 * invalidation.
 */
export function auditedWrite<E extends EntityName>(
  ctx: RequestContext,
  entity: E,
): FinishWrite<EntityRows[E]> {
  return ctx.finishWrite(entity, (row) =>
    ctx.audit.writeRow({
      resourceType: entity,
      resourceId: row.id,
      patientId: entity === 'Patient' ? row.id : 'patientId' in row ? row.patientId : null,
    }),
  );
}
