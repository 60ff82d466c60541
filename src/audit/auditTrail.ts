import type { Principal } from '../auth/principal.js';
import type { Database } from '../db/client.js';
import { auditEvents, type NewAuditEvent } from '../db/tables/index.js';

export type CacheSource = 'L1' | 'L2' | 'DB';

type AuditAction = NewAuditEvent['action'];

/** What one event is about. Ids only: never a name, a search term or clinical text. */
export interface AuditSubject {
  readonly resourceType: string;
  readonly resourceId: string | null;
  readonly patientId: string | null;
}

/**
 * One request's audit trail. Reads and denials are buffered and committed in one multi-row
 * INSERT before the response is sent; writes are inserted by the mutation itself, inside its
 * transaction, so a committed write is never unaudited.
 */
export interface AuditTrail {
  /** One event per PHI entity per request, whichever layer served it. */
  read(subject: AuditSubject, source: CacheSource): void;
  denied(subject: AuditSubject): void;
  purged(subject: AuditSubject): void;
  /** The row a mutation inserts in its own transaction. */
  writeRow(subject: AuditSubject): NewAuditEvent;
  setOperationName(name: string | null): void;
  /** Whether the request has read any PHI. */
  readonly readsPhi: boolean;
  /**
   * Commits the buffered events in one INSERT.
   *
   * @returns how many events were written.
   * @throws the database error when they could not be; the caller withholds the response.
   */
  flush(): Promise<number>;
}

export interface AuditRequest {
  readonly principal: Principal;
  readonly requestId: string;
  readonly clientAddress: string;
  /** Set when a clinician invoked break-glass for this request: every event carries it. */
  readonly breakGlassReason: string | undefined;
}

export function createAuditTrail(db: Database, request: AuditRequest): AuditTrail {
  const buffered: NewAuditEvent[] = [];
  const seen = new Set<string>();
  let operationName: string | null = null;
  let readsPhi = false;

  const row = (
    action: AuditAction,
    outcome: 'ALLOWED' | 'DENIED',
    subject: AuditSubject,
    source?: CacheSource,
  ): NewAuditEvent => ({
    tenantId: request.principal.tenantId,
    actorId: request.principal.userId,
    actorRole: request.principal.role,
    action,
    resourceType: subject.resourceType,
    resourceId: subject.resourceId,
    patientId: subject.patientId,
    operationName,
    cacheSource: source ?? null,
    requestId: request.requestId,
    outcome,
    breakGlassReason: request.breakGlassReason ?? null,
    clientAddress: request.clientAddress,
  });

  const once = (key: string, event: () => NewAuditEvent) => {
    if (seen.has(key)) return;
    seen.add(key);
    buffered.push(event());
  };

  return {
    read: (subject, source) => {
      readsPhi = true;
      once(`READ:${subject.resourceType}:${subject.resourceId ?? ''}`, () =>
        row('READ', 'ALLOWED', subject, source),
      );
    },
    denied: (subject) => {
      once(`DENY:${subject.resourceType}:${subject.resourceId ?? ''}`, () =>
        row('DENY', 'DENIED', subject),
      );
    },
    purged: (subject) => {
      buffered.push(row('PURGE', 'ALLOWED', subject));
    },
    writeRow: (subject) => row('WRITE', 'ALLOWED', subject),
    setOperationName: (name) => {
      operationName = name;
    },
    get readsPhi() {
      return readsPhi;
    },
    flush: async () => {
      const events = buffered.splice(0).map((event) => ({ ...event, operationName }));
      if (events.length > 0) await db.insert(auditEvents).values(events);
      return events.length;
    },
  };
}
