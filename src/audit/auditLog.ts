import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import type { NewAuditEvent } from '../db/tables/index.js';

/**
 * The process-wide writer of buffered audit events. Requests that flush in the same turn of the
 * event loop share one INSERT (a group commit): each still waits for the commit that holds its
 * events before its response leaves. When that INSERT fails, each request's events are tried
 * on their own, so only a request whose own events cannot be written is refused.
 */
export interface AuditLog {
  /** Resolves once the rows are committed; rejects with the database's error otherwise. */
  append(rows: ReadonlyArray<NewAuditEvent>): Promise<void>;
}

interface Pending {
  readonly rows: ReadonlyArray<NewAuditEvent>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export function createAuditLog(db: Database): AuditLog {
  let pending: Pending[] = [];

  const writePending = (): void => {
    const batch = pending;
    pending = [];
    insertEvents(
      db,
      batch.flatMap((p) => p.rows),
    ).then(
      () => {
        for (const p of batch) p.resolve();
      },
      (error: unknown) => {
        if (batch.length === 1) {
          batch[0]?.reject(error);
          return;
        }
        // One request's bad row (a tenant that no longer exists, say) must not withhold every
        // other response: each request's events are tried again on their own.
        for (const p of batch) insertEvents(db, p.rows).then(p.resolve, p.reject);
      },
    );
  };

  return {
    append: (rows) => {
      if (rows.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        pending.push({ rows, resolve, reject });
        // setImmediate, not a microtask: requests whose responses complete in this turn join.
        if (pending.length === 1) setImmediate(writePending);
      });
    },
  };
}

/**
 * One statement for any number of rows. They travel as a single JSON parameter that Postgres
 * expands with json_to_recordset, so building the statement costs the same for 1 row or 1,000,
 * where a VALUES list would take a parameter (and the query builder's work) per column per row.
 */
async function insertEvents(db: Database, rows: ReadonlyArray<NewAuditEvent>): Promise<void> {
  const json = JSON.stringify(
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
    })),
  );
  await db.execute(sql`insert into "audit_events" (
      tenant_id, actor_id, actor_role, action, resource_type, resource_id, patient_id,
      operation_name, cache_source, request_id, outcome, break_glass_reason, client_address)
    select tenant_id, actor_id, actor_role, action::audit_action, resource_type, resource_id,
      patient_id, operation_name, cache_source::cache_source, request_id,
      outcome::audit_outcome, break_glass_reason, client_address
    from json_to_recordset(${json}::json) as r(
      tenant_id text, actor_id text, actor_role text, action text, resource_type text,
      resource_id text, patient_id uuid, operation_name text, cache_source text,
      request_id text, outcome text, break_glass_reason text, client_address text)`);
}
