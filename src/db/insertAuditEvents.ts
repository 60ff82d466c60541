import { sql } from 'drizzle-orm';
import type { Database } from './client.js';
import type { NewAuditEvent } from './tables/index.js';

/**
 * The columns of `audit_events` the API writes, each with its type in the statement and the
 * row's field it comes from. `id` and `occurred_at` are not among them: the database assigns
 * both, and the app role may not write them (src/db/appRole.ts grants INSERT on these only).
 */
const COLUMNS: ReadonlyArray<readonly [column: string, type: string, field: keyof NewAuditEvent]> =
  [
    ['tenant_id', 'text', 'tenantId'],
    ['actor_id', 'text', 'actorId'],
    ['actor_role', 'text', 'actorRole'],
    ['action', 'audit_action', 'action'],
    ['resource_type', 'text', 'resourceType'],
    ['resource_id', 'text', 'resourceId'],
    ['patient_id', 'uuid', 'patientId'],
    ['operation_name', 'text', 'operationName'],
    ['cache_source', 'cache_source', 'cacheSource'],
    ['request_id', 'text', 'requestId'],
    ['outcome', 'audit_outcome', 'outcome'],
    ['break_glass_reason', 'text', 'breakGlassReason'],
    ['client_address', 'text', 'clientAddress'],
  ];

/** The columns every audit INSERT of the API names, and the only ones the app role may. */
export const AUDIT_INSERT_COLUMNS: ReadonlyArray<string> = COLUMNS.map(([column]) => column);

const names = AUDIT_INSERT_COLUMNS.join(', ');
const HEAD = sql.raw(
  `insert into "audit_events" (${names}) select ${names} from json_to_recordset(`,
);
const TAIL = sql.raw(
  `::json) as r(${COLUMNS.map(([column, type]) => `${column} ${type}`).join(', ')})`,
);

/**
 * Inserts audit events in one statement, whatever their number: the rows travel as a single
 * JSON parameter that Postgres expands with json_to_recordset, so building the statement costs
 * the same for 1 row or 1,000, where a VALUES list would take a parameter per column per row.
 * Only AUDIT_INSERT_COLUMNS are named; `id` and `occurred_at` take their defaults.
 *
 * @param db a database or a transaction (a write's row goes in with the write)
 * @throws the driver's error when the rows cannot be inserted
 */
export async function insertAuditEvents(
  db: Pick<Database, 'execute'>,
  rows: ReadonlyArray<NewAuditEvent>,
): Promise<void> {
  const json = JSON.stringify(
    rows.map((row) =>
      Object.fromEntries(COLUMNS.map(([column, , field]) => [column, row[field] ?? null])),
    ),
  );
  await db.execute(sql`${HEAD}${json}${TAIL}`);
}
