import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { Database } from '../client.js';
import { auditEvents, type AuditEventRow } from '../tables/index.js';

/** The newest audit events of a tenant, optionally of one patient. */
export function listAuditEvents(
  db: Database,
  tenantId: string,
  patientId: string | undefined,
  first: number,
): Promise<AuditEventRow[]> {
  const conditions: SQL[] = [eq(auditEvents.tenantId, tenantId)];
  if (patientId !== undefined) conditions.push(eq(auditEvents.patientId, patientId));
  return db
    .select()
    .from(auditEvents)
    .where(and(...conditions))
    .orderBy(desc(auditEvents.occurredAt), desc(auditEvents.id))
    .limit(first);
}
