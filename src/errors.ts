import { GraphQLError } from 'graphql';

/**
 * Every error code a client can see. Codes are a public contract; messages are for humans
 * and never contain PHI.
 */
export enum ErrorCode {
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  BadUserInput = 'BAD_USER_INPUT',
  BadRequest = 'BAD_REQUEST',
  Conflict = 'CONFLICT',
  QueryTooLarge = 'QUERY_TOO_LARGE',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  /** The write is committed, but the cache could not be told at once; see the README. */
  CacheInvalidationDelayed = 'CACHE_INVALIDATION_DELAYED',
  AuditUnavailable = 'AUDIT_UNAVAILABLE',
  CacheUnverified = 'CACHE_UNVERIFIED',
  BreakGlassReasonRequired = 'BREAK_GLASS_REASON_REQUIRED',
  PersistedQueryNotSupported = 'PERSISTED_QUERY_NOT_SUPPORTED',
  PersistedQueryHashMismatch = 'PERSISTED_QUERY_HASH_MISMATCH',
  QueryTooDeep = 'QUERY_TOO_DEEP',
  QueryTooCostly = 'QUERY_TOO_COSTLY',
  TooManyAliases = 'TOO_MANY_ALIASES',
  BatchTooLarge = 'BATCH_TOO_LARGE',
  /** Postgres cannot be reached; sent with HTTP 503. Retry later. */
  DatabaseUnavailable = 'DATABASE_UNAVAILABLE',
  /** The server is shutting down; sent with HTTP 503. Retry on another instance. */
  ShuttingDown = 'SHUTTING_DOWN',
  /** The request's headers are too large (HTTP 431). */
  HeadersTooLarge = 'HEADERS_TOO_LARGE',
  /** The client took too long to send its request (HTTP 408). */
  RequestTimeout = 'REQUEST_TIMEOUT',
  InternalServerError = 'INTERNAL_SERVER_ERROR',
}

/** Codes that Apollo Server and graphql-js produce themselves, passed to clients as they are. */
export const FRAMEWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

// INTERNAL_SERVER_ERROR is deliberately absent: Apollo stamps it on every uncoded error before
// formatError runs, so its message is whatever the failure said (SQL with its parameters, say).
const OWN_ERROR_CODES: ReadonlySet<string> = new Set(
  Object.values(ErrorCode).filter((code) => code !== ErrorCode.InternalServerError),
);

/** True for a code that may reach a client unmasked, with its message. */
export function isClientErrorCode(code: unknown): code is string {
  return typeof code === 'string' && (OWN_ERROR_CODES.has(code) || FRAMEWORK_ERROR_CODES.has(code));
}

/**
 * Why a bearer token was refused, for the request log: `missing` (no header), `malformed` (not
 * `Bearer <JWT>`), `expired`, `invalid` (signature, algorithm, issuer or audience) or `claims`
 * (a verified token whose claims the service cannot use).
 */
export type UnauthenticatedReason = 'missing' | 'malformed' | 'expired' | 'invalid' | 'claims';

/** The caller has no valid bearer token. Sent with HTTP 401. */
export class UnauthenticatedError extends GraphQLError {
  readonly reason: UnauthenticatedReason;

  constructor(message = 'Authentication required', reason: UnauthenticatedReason = 'invalid') {
    super(message, {
      extensions: { code: ErrorCode.Unauthenticated, http: { status: 401 } },
    });
    this.reason = reason;
  }
}

/** The caller may not read or change this field. The message never says whether the id exists. */
export class ForbiddenError extends GraphQLError {
  constructor(message = 'Not authorized') {
    super(message, { extensions: { code: ErrorCode.Forbidden } });
  }
}

/** A mutation named an entity that does not exist in the caller's tenant. */
export class NotFoundError extends GraphQLError {
  constructor(entity: string) {
    super(`${entity} not found`, { extensions: { code: ErrorCode.NotFound } });
  }
}

/** An argument is well-typed but invalid. The message names the argument, never its value. */
export class BadUserInputError extends GraphQLError {
  constructor(message: string, argumentName?: string) {
    super(message, {
      extensions: {
        code: ErrorCode.BadUserInput,
        ...(argumentName === undefined ? {} : { argumentName }),
      },
    });
  }
}

/**
 * A string argument or variable holds text Postgres refuses or would store changed (U+0000, a
 * lone UTF-16 surrogate). Refused with HTTP 400 before the operation runs; the message names
 * the argument or variable, never its value.
 */
export class UnstorableTextError extends GraphQLError {
  constructor(argumentName: string) {
    super(`Invalid ${argumentName}: text may not hold NUL characters or unpaired surrogates`, {
      extensions: { code: ErrorCode.BadUserInput, argumentName, http: { status: 400 } },
    });
  }
}

/**
 * A write committed, but L2 could not be told at once. The cache is flushed whole before it is
 * read again; until then another instance may serve the previous value.
 */
export class CacheInvalidationDelayedError extends GraphQLError {
  constructor() {
    super(
      'The change is saved; caches are being refreshed and may briefly show the previous value',
      {
        extensions: { code: ErrorCode.CacheInvalidationDelayed },
      },
    );
  }
}

/** The audit trail could not be written, so the response withholds its data. */
export class AuditUnavailableError extends GraphQLError {
  constructor() {
    super('The audit trail is unavailable; no protected data was served', {
      extensions: { code: ErrorCode.AuditUnavailable, http: { status: 503 } },
    });
  }
}

/** Postgres cannot be reached, so the operation could not be answered. Sent with HTTP 503. */
export class DatabaseUnavailableError extends GraphQLError {
  constructor() {
    super('The database is unavailable; try again shortly', {
      extensions: { code: ErrorCode.DatabaseUnavailable, http: { status: 503 } },
    });
  }
}

/** The write conflicts with existing data (a unique constraint, say). */
export class ConflictError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: ErrorCode.Conflict } });
  }
}

/**
 * Asserts a condition that only a bug can break. Failures surface to clients as a masked
 * INTERNAL_SERVER_ERROR.
 */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`Invariant violation: ${message}`);
}
