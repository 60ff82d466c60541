import { randomUUID } from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { insertAuditEvents } from '../db/insertAuditEvents.js';
import {
  countAuditEventsByTenant,
  listAuditEventPage,
  type AuditCriteria,
  type PositionedAuditEvent,
} from '../db/queries/auditEventPage.js';
import type { NewAuditEvent } from '../db/tables/index.js';
import type { AuditPosition } from './auditCursor.js';

export interface AuditExportOptions {
  readonly db: Database;
  readonly criteria: AuditCriteria;
  /** One tenant's events; every tenant's when undefined. */
  readonly tenantId?: string | undefined;
  readonly output: Writable;
  /** False for stdout, which the process must not end. */
  readonly endOutput: boolean;
  /** Events read per statement: what the export holds in memory at most, with one line each. */
  readonly batchSize?: number;
  /** Called once the events are counted and the export recorded, before the first line. */
  readonly onStart?: (total: number) => void;
  /** Called after each batch with the events written so far. */
  readonly onProgress?: (written: number) => void;
}

export interface AuditExportReport {
  /** The `request_id` of the export's own audit events. */
  readonly exportId: string;
  readonly byTenant: ReadonlyArray<{ readonly tenantId: string; readonly events: number }>;
  readonly written: number;
}

/** The export could not be recorded in the audit trail, so it wrote nothing. */
export class ExportNotRecordedError extends Error {
  constructor(readonly reason: unknown) {
    super('the export could not be recorded in the audit trail');
    this.name = 'ExportNotRecordedError';
  }
}

/**
 * Writes the events that meet the criteria as NDJSON, one event per line: tenant by tenant, each
 * oldest first, by (occurred_at, id). Everything is read in one REPEATABLE READ transaction, so
 * the count, the record and the lines describe the same snapshot, and a batch at a time (keyset
 * pagination), so memory stays bounded whatever the number of events. Before the first line,
 * one `export` event per tenant exported, with its count, is committed on its own: the export
 * is on record even if it fails midway, and it is not in its own output.
 *
 * @throws ExportNotRecordedError when the record cannot be written (nothing is exported), or the
 *   driver's or the output's error
 */
export async function exportAuditEvents(options: AuditExportOptions): Promise<AuditExportReport> {
  const { db, criteria, batchSize = 1000 } = options;
  const exportId = randomUUID();
  return db.transaction(
    async (tx) => {
      const byTenant = await countAuditEventsByTenant(tx, criteria, options.tenantId);
      try {
        await recordExport(db, exportId, criteria, byTenant);
      } catch (error) {
        throw new ExportNotRecordedError(error);
      }
      options.onStart?.(byTenant.reduce((sum, t) => sum + t.events, 0));
      let written = 0;
      async function* lines(): AsyncGenerator<string> {
        for (const { tenantId } of byTenant) {
          let after: AuditPosition | undefined;
          for (;;) {
            const page = { tenantId, criteria, after, order: 'oldest', limit: batchSize } as const;
            const rows = await listAuditEventPage(tx, page);
            if (rows.length === 0) break;
            yield rows.map(toLine).join('');
            written += rows.length;
            options.onProgress?.(written);
            const last = rows.at(-1);
            if (last === undefined || rows.length < batchSize) break;
            after = { occurredAt: last.exactOccurredAt, id: last.id };
          }
        }
      }
      // One batch in hand at a time: the generator waits while the output drains.
      await pipeline(Readable.from(lines(), { highWaterMark: 1 }), options.output, {
        end: options.endOutput,
      });
      return { exportId, byTenant, written };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

/** Every column of the row, named as the API names it, the time to the microsecond. */
function toLine(row: PositionedAuditEvent): string {
  return `${JSON.stringify({
    id: String(row.id),
    occurredAt: row.exactOccurredAt,
    tenantId: row.tenantId,
    actorId: row.actorId,
    actorRole: row.actorRole,
    action: row.action,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    patientId: row.patientId,
    operationName: row.operationName,
    cacheSource: row.cacheSource,
    requestId: row.requestId,
    outcome: row.outcome,
    breakGlassReason: row.breakGlassReason,
    clientAddress: row.clientAddress,
    entityCount: row.entityCount,
  })}\n`;
}

/**
 * One `export` event per tenant with events to export. The actor is the database login the
 * export ran as, which Postgres vouches for (an operating-system user name is whatever the
 * environment says), and the client address is the one Postgres saw.
 */
async function recordExport(
  db: Database,
  exportId: string,
  criteria: AuditCriteria,
  byTenant: ReadonlyArray<{ tenantId: string; events: number }>,
): Promise<void> {
  if (byTenant.length === 0) return;
  const result: unknown = await db.execute(
    sql`select current_user as "actorId", host(inet_client_addr()) as "clientAddress"`,
  );
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{
    actorId: string;
    clientAddress: string | null;
  }>;
  const who = rows[0] ?? { actorId: 'unknown', clientAddress: null };
  const events: NewAuditEvent[] = byTenant.map(({ tenantId, events: count }) => ({
    tenantId,
    actorId: who.actorId,
    actorRole: 'operator',
    action: 'export',
    resourceType: 'AuditEvent',
    resourceId: null,
    patientId: criteria.patientId ?? null,
    operationName: 'audit:export',
    requestId: exportId,
    outcome: 'allowed',
    clientAddress: who.clientAddress,
    entityCount: count,
  }));
  await insertAuditEvents(db, events);
}
