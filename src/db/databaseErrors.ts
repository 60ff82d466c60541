// postgres.js raises these when a connection cannot be made or is lost; Node's socket errors
// come through as they are.
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'ETIMEDOUT',
]);

// SQLSTATEs that say the database, not the statement, is the problem: connection exceptions
// (class 08), an operator or crash shutdown, start-up, a dropped database, no free connections.
const UNAVAILABLE_SQLSTATES: ReadonlySet<string> = new Set([
  '57P01',
  '57P02',
  '57P03',
  '3D000',
  '53300',
]);

// The embedded PGlite, once closed, refuses every statement with a plain Error of its own.
const PGLITE_GONE: ReadonlySet<string> = new Set(['PGlite is closed', 'PGlite is closing']);

/**
 * True when an error means Postgres cannot be reached or is going away, rather than that one
 * statement failed. Looks through drizzle's query-error wrapper (`cause`).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 4; depth++) {
    if (PGLITE_GONE.has(current.message)) return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (CONNECTION_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08')) {
        return true;
      }
    }
    current = current.cause;
  }
  return false;
}
