import type { DatabaseHandle } from '../db/client.js';
import { insertAuditEventsPrepared } from '../db/insertAuditEvents.js';
import type { NewAuditEvent } from '../db/tables/index.js';

/**
 * The process-wide writer of buffered audit events, a group commit: requests that flush while
 * an INSERT is under way share the next one, and requests that flush in the same turn of the
 * event loop share one too. Each request still waits for the commit that holds its events
 * before its response leaves. When a shared INSERT fails, each request's events are tried on
 * their own, so only a request whose own events cannot be written is refused.
 */
export interface AuditLog {
  /** Resolves once the rows are committed; rejects with the database's error otherwise. */
  append(rows: ReadonlyArray<NewAuditEvent>): Promise<void>;
}

/** Rows one shared INSERT takes at most; beyond, requests wait for the next one. */
const MAX_GROUP_ROWS = 5_000;

interface Pending {
  readonly rows: ReadonlyArray<NewAuditEvent>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * @param database where the rows go, as one prepared INSERT per group
 * @param maxInFlight shared INSERTs under way at once; further requests queue behind them and
 *   go together in the next. Under load that makes the groups large (one statement for many
 *   requests, the database's CPU being the scarce resource), and a lone request waits for no
 *   one.
 */
export function createAuditLog(
  database: Pick<DatabaseHandle, 'executePrepared'>,
  maxInFlight = 2,
  maxGroupRows = MAX_GROUP_ROWS,
): AuditLog {
  let pending: Pending[] = [];
  let inFlight = 0;
  let scheduled = false;

  const writePending = (): void => {
    scheduled = false;
    if (pending.length === 0 || inFlight >= maxInFlight) return;
    // A group stops at maxGroupRows (one request's events are never split): the rows travel
    // as one JSON string, and queued requests must never add up to one too big to build.
    let rowCount = 0;
    let taken = 0;
    while (taken < pending.length && (taken === 0 || rowCount < maxGroupRows)) {
      rowCount += (pending[taken] as Pending).rows.length;
      taken++;
    }
    const batch = pending.slice(0, taken);
    pending = pending.slice(taken);
    inFlight++;
    if (pending.length > 0) schedule();
    const done = () => {
      inFlight--;
      if (pending.length > 0) schedule();
    };
    insertAuditEventsPrepared(
      database,
      batch.length === 1 ? (batch[0] as Pending).rows : batch.flatMap((p) => p.rows),
    ).then(
      () => {
        done();
        for (const p of batch) p.resolve();
      },
      (error: unknown) => {
        done();
        if (batch.length === 1) {
          batch[0]?.reject(error);
          return;
        }
        // One request's bad row (a tenant that no longer exists, say) must not withhold every
        // other response: each request's events are tried again on their own.
        for (const p of batch)
          insertAuditEventsPrepared(database, p.rows).then(p.resolve, p.reject);
      },
    );
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    // setImmediate, not a microtask: requests whose responses complete in this turn join.
    setImmediate(writePending);
  };

  return {
    append: (rows) => {
      if (rows.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        pending.push({ rows, resolve, reject });
        schedule();
      });
    },
  };
}
