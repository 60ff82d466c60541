import type { Principal } from '../auth/principal.js';
import type { NewAuditEvent } from '../db/tables/index.js';
import { isUuid, normalizeId } from '../graphql/ids.js';

/** The layer that served an entity to the request: its loaders, L2, or Postgres. */
export type CacheSource = 'l1' | 'l2' | 'db';

type AuditAction = NewAuditEvent['action'];

/**
 * What one event is about. Ids only: anything that is not a uuid (a client's malformed or
 * probing id, which could be any text) is stored as null.
 */
export interface AuditSubject {
  readonly resourceType: string;
  readonly resourceId: string | null;
  readonly patientId: string | null;
}

/**
 * One operation's audit trail. Reads, denials and break-glass are buffered, then
 * drained by the HTTP layer, which commits them in one INSERT before the response is sent;
 * writes are inserted by the mutation itself, inside its transaction, so a committed write is
 * never unaudited.
 */
export interface AuditTrail {
  /** One event per PHI entity per request, whichever layer served it. */
  read(subject: AuditSubject, source: CacheSource): void;
  denied(subject: AuditSubject): void;
  /** The row a purge inserts before it takes effect. */
  purgeRow(subject: AuditSubject): NewAuditEvent;
  /**
   * Records that the request read this patient only thanks to break-glass: one emergency
   * access event, and the reason on every event of that patient in the request.
   */
  brokeGlass(patientId: string): void;
  /** The row a mutation inserts in its own transaction. */
  writeRow(subject: AuditSubject): NewAuditEvent;
  /**
   * Names the operation on every row. A name longer than `MAX_OPERATION_NAME` is cut there
   * and marked with `…`: GraphQL sets no limit, and every row of the request carries it.
   */
  setOperationName(name: string | null): void;
  /**
   * Takes the buffered events, stamped with the operation's name. The HTTP layer commits
   * them, with those of the request's other operations, before the response is sent.
   */
  drain(): NewAuditEvent[];
}

export interface AuditRequest {
  readonly principal: Principal;
  readonly requestId: string;
  readonly clientAddress: string;
  /** Set when a clinician invoked break-glass for this request. */
  readonly breakGlassReason: string | undefined;
}

/** The longest operation name an audit row keeps, in characters. */
export const MAX_OPERATION_NAME = 200;

export function createAuditTrail(request: AuditRequest): AuditTrail {
  const buffered: NewAuditEvent[] = [];
  const seen = new Set<string>();
  const emergencyPatients = new Set<string>();
  let operationName: string | null = null;

  const row = (
    action: AuditAction,
    outcome: 'allowed' | 'denied',
    subject: AuditSubject,
    source?: CacheSource,
  ): NewAuditEvent => {
    const patientId = idOrNull(subject.patientId);
    return {
      tenantId: request.principal.tenantId,
      actorId: request.principal.userId,
      actorRole: request.principal.role,
      action,
      resourceType: subject.resourceType,
      resourceId: idOrNull(subject.resourceId),
      patientId,
      operationName,
      cacheSource: source ?? null,
      requestId: request.requestId,
      outcome,
      breakGlassReason:
        patientId !== null && emergencyPatients.has(patientId)
          ? (request.breakGlassReason ?? null)
          : null,
      clientAddress: request.clientAddress,
    };
  };

  const once = (key: string, event: () => NewAuditEvent) => {
    if (seen.has(key)) return;
    seen.add(key);
    buffered.push(event());
  };

  return {
    read: (subject, source) => {
      once(`read:${subject.resourceType}:${idOrNull(subject.resourceId) ?? ''}`, () =>
        row('read', 'allowed', subject, source),
      );
    },
    denied: (subject) => {
      once(`deny:${subject.resourceType}:${idOrNull(subject.resourceId) ?? ''}`, () =>
        row('deny', 'denied', subject),
      );
    },
    purgeRow: (subject) => row('purge', 'allowed', subject),
    brokeGlass: (patientId) => {
      const id = idOrNull(patientId);
      if (id === null || emergencyPatients.has(id)) return;
      emergencyPatients.add(id);
      buffered.push(
        row('break_glass', 'allowed', { resourceType: 'Patient', resourceId: id, patientId: id }),
      );
    },
    writeRow: (subject) => row('write', 'allowed', subject),
    setOperationName: (name) => {
      operationName =
        name !== null && name.length > MAX_OPERATION_NAME
          ? `${name.slice(0, MAX_OPERATION_NAME - 1)}…`
          : name;
    },
    drain: () => buffered.splice(0).map((event) => ({ ...event, operationName })),
  };
}

function idOrNull(id: string | null): string | null {
  return id !== null && isUuid(id) ? normalizeId(id) : null;
}
