import { and, asc, count, desc, eq, getTableColumns, gte, lt, sql, type SQL } from 'drizzle-orm';
import type { AuditPosition } from '../../audit/auditCursor.js';
import type { Database } from '../client.js';
import { auditEvents, type AuditEventRow } from '../tables/index.js';

/** What part of the trail to read. Every criterion given must hold. */
export interface AuditCriteria {
  /** At or after this instant (`YYYY-MM-DDTHH:MM:SS.ffffffZ`). */
  readonly from?: string | undefined;
  /** Before this instant: ranges are half-open, [from, to). */
  readonly to?: string | undefined;
  readonly patientId?: string | undefined;
  readonly actorId?: string | undefined;
  readonly action?: AuditEventRow['action'] | undefined;
  readonly resourceType?: string | undefined;
}

/** `newest`: the API's order. `oldest`: an export's, which reads like a log. */
export type AuditOrder = 'newest' | 'oldest';

export interface AuditPageQuery {
  readonly tenantId: string;
  readonly criteria: AuditCriteria;
  /** The events strictly after this position, in `order`. */
  readonly after?: AuditPosition | undefined;
  readonly order: AuditOrder;
  readonly limit: number;
}

/** An event with its place in the order, to the microsecond. */
export type PositionedAuditEvent = AuditEventRow & { readonly exactOccurredAt: string };

// The driver's text of a timestamp has the session's zone and, through PGlite, milliseconds
// only; a position must be exact, or events of the same millisecond would repeat or be lost.
const EXACT_OCCURRED_AT = sql<string>`to_char(${auditEvents.occurredAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * One page of a tenant's audit trail, ordered by (occurred_at, id): keyset pagination, each page
 * one range of the (tenant_id, occurred_at, id) index, read forwards for `newest` and
 * backwards for `oldest`. A page costs the same whether it is the first or the thousandth, and
 * events committed meanwhile never shift the pages that follow. A patient filter walks the
 * (tenant_id, patient_id, occurred_at) index instead, and sorts a patient's ties by id.
 */
export function listAuditEventPage(
  db: Pick<Database, 'select'>,
  query: AuditPageQuery,
): Promise<PositionedAuditEvent[]> {
  const conditions = criteriaConditions(query.tenantId, query.criteria);
  if (query.after !== undefined) {
    const at = sql`(${query.after.occurredAt}::timestamptz, ${String(query.after.id)}::bigint)`;
    const key = sql`(${auditEvents.occurredAt}, ${auditEvents.id})`;
    conditions.push(query.order === 'newest' ? sql`${key} < ${at}` : sql`${key} > ${at}`);
  }
  const direction = query.order === 'newest' ? desc : asc;
  return db
    .select({ ...getTableColumns(auditEvents), exactOccurredAt: EXACT_OCCURRED_AT })
    .from(auditEvents)
    .where(and(...conditions))
    .orderBy(direction(auditEvents.occurredAt), direction(auditEvents.id))
    .limit(query.limit);
}

/** How many events of a tenant meet the criteria. */
export async function countAuditEvents(
  db: Pick<Database, 'select'>,
  tenantId: string,
  criteria: AuditCriteria,
): Promise<number> {
  const [row] = await db
    .select({ events: count() })
    .from(auditEvents)
    .where(and(...criteriaConditions(tenantId, criteria)));
  return row?.events ?? 0;
}

/** How many events meet the criteria, by tenant, in tenant order; tenants with none are absent. */
export function countAuditEventsByTenant(
  db: Pick<Database, 'select'>,
  criteria: AuditCriteria,
  tenantId?: string,
): Promise<Array<{ tenantId: string; events: number }>> {
  const conditions = criteriaConditions(tenantId, criteria);
  return db
    .select({ tenantId: auditEvents.tenantId, events: count() })
    .from(auditEvents)
    .where(and(...conditions))
    .groupBy(auditEvents.tenantId)
    .orderBy(asc(auditEvents.tenantId));
}

function criteriaConditions(tenantId: string | undefined, criteria: AuditCriteria): SQL[] {
  const conditions: SQL[] = [];
  const equal = [
    [auditEvents.tenantId, tenantId],
    [auditEvents.patientId, criteria.patientId],
    [auditEvents.actorId, criteria.actorId],
    [auditEvents.action, criteria.action],
    [auditEvents.resourceType, criteria.resourceType],
  ] as const;
  for (const [column, value] of equal) if (value !== undefined) conditions.push(eq(column, value));
  if (criteria.from !== undefined) conditions.push(gte(auditEvents.occurredAt, criteria.from));
  if (criteria.to !== undefined) conditions.push(lt(auditEvents.occurredAt, criteria.to));
  return conditions;
}
