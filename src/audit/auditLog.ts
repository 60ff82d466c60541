import type { Database } from '../db/client.js';
import { insertAuditEvents } from '../db/insertAuditEvents.js';
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
    insertAuditEvents(
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
        for (const p of batch) insertAuditEvents(db, p.rows).then(p.resolve, p.reject);
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
