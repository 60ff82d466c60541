import { sql } from 'drizzle-orm';
import type { Database, DatabaseHandle } from './client.js';
import type { NewAuditEvent } from './tables/index.js';

/**
 * The columns of `audit_events` the API writes, each with its type in the statement; each is a
 * key of auditRowsJson's objects. `id` and `occurred_at` are not among them: the database
 * assigns both, and the app role may not write them (src/db/appRole.ts grants INSERT on these
 * only).
 */
const COLUMNS: ReadonlyArray<readonly [column: string, type: string]> = [
  ['tenant_id', 'text'],
  ['actor_id', 'text'],
  ['actor_role', 'text'],
  ['action', 'audit_action'],
  ['resource_type', 'text'],
  ['resource_id', 'text'],
  ['patient_id', 'uuid'],
  ['operation_name', 'text'],
  ['cache_source', 'cache_source'],
  ['request_id', 'text'],
  ['outcome', 'audit_outcome'],
  ['break_glass_reason', 'text'],
  ['client_address', 'text'],
  ['entity_count', 'integer'],
];

/** The columns every audit INSERT of the API names, and the only ones the app role may. */
export const AUDIT_INSERT_COLUMNS: ReadonlyArray<string> = COLUMNS.map(([column]) => column);

const names = AUDIT_INSERT_COLUMNS.join(', ');
const HEAD = `insert into "audit_events" (${names}) select ${names} from json_to_recordset(`;
const TAIL = `::text::json) as r(${COLUMNS.map(([column, type]) => `${column} ${type}`).join(', ')})`;

/**
 * The audit INSERT as one statement with one parameter, `$1`: the rows as a JSON array of
 * objects keyed by column. It is the same text for any number of rows, so it is prepared once
 * per connection (DatabaseHandle.executePrepared).
 */
export const AUDIT_INSERT_STATEMENT = `${HEAD}$1${TAIL}`;

/**
 * The rows as the statement's JSON parameter. Each row becomes an object literal with the
 * columns in a fixed order, so JSON.stringify meets one shape only: a generic mapping over
 * COLUMNS cost more than the INSERT's own encoding.
 */
export function auditRowsJson(rows: ReadonlyArray<NewAuditEvent>): string {
  return JSON.stringify(
    rows.map((row) => ({
      tenant_id: row.tenantId,
      actor_id: row.actorId,
      actor_role: row.actorRole,
      action: row.action,
      resource_type: row.resourceType,
      resource_id: row.resourceId ?? null,
      patient_id: row.patientId ?? null,
      operation_name: row.operationName ?? null,
      cache_source: row.cacheSource ?? null,
      request_id: row.requestId,
      outcome: row.outcome,
      break_glass_reason: row.breakGlassReason ?? null,
      client_address: row.clientAddress ?? null,
      entity_count: row.entityCount ?? null,
    })),
  );
}

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
  await db.execute(sql`${sql.raw(HEAD)}${auditRowsJson(rows)}${sql.raw(TAIL)}`);
}

/**
 * The same INSERT outside any transaction, as a prepared statement: the read path's audit
 * commit, once per request or group of requests.
 *
 * @throws the driver's error when the rows cannot be inserted
 */
export async function insertAuditEventsPrepared(
  database: Pick<DatabaseHandle, 'executePrepared'>,
  rows: ReadonlyArray<NewAuditEvent>,
): Promise<void> {
  // Async, so that rows JSON cannot encode reject the commit instead of throwing into a timer.
  await database.executePrepared(AUDIT_INSERT_STATEMENT, [auditRowsJson(rows)]);
}
