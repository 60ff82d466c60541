import type { NewAuditEvent } from '../db/tables/index.js';
import type { RequestContext } from '../graphql/context.js';

/**
 * The audit row of a write to an entity, for the mutation to insert in its own transaction.
 * PHI entities name their patient; reference data names none.
 */
export function auditedWrite(
  ctx: RequestContext,
  resourceType: string,
): (row: { id: string; patientId?: string }) => NewAuditEvent {
  return (row) =>
    ctx.audit.writeRow({
      resourceType,
      resourceId: row.id,
      patientId: resourceType === 'Patient' ? row.id : (row.patientId ?? null),
    });
}
