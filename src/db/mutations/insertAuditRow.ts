import type { Database } from '../client.js';
import { insertAuditEvents } from '../insertAuditEvents.js';
import type { NewAuditEvent } from '../tables/index.js';

/**
 * The audit row of a write could not be inserted. The write goes no further (inside a
 * transaction, it is rolled back with the row), and the client is told the audit trail is
 * unavailable, not that the write failed for a reason of its own.
 */
export class AuditRowError extends Error {
  constructor(cause: unknown) {
    super('the audit row of a write could not be inserted', { cause });
    this.name = 'AuditRowError';
  }
}

/**
 * Inserts one write's audit row, in the write's own transaction when given one.
 *
 * @throws AuditRowError when the row cannot be inserted.
 */
export async function insertAuditRow(
  db: Pick<Database, 'execute'>,
  row: NewAuditEvent,
): Promise<void> {
  try {
    // Not drizzle's insert, which names every column (`default` for those not given): the app
    // role may not name id or occurred_at.
    await insertAuditEvents(db, [row]);
  } catch (error) {
    throw new AuditRowError(error);
  }
}
