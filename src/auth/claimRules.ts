/**
 * What the server accepts in a token's claims, in one place: `authenticate()` refuses a token
 * that breaks these rules, and `npm run token` refuses to sign one. Imports nothing.
 */

/** A tenant id: lower-case letters, digits, `_` and `-`, starting with a letter or digit. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** The rule of TENANT_ID_PATTERN, for messages. */
export const TENANT_ID_RULE =
  '1-63 of a-z, 0-9, "_" and "-", starting with a letter or digit (lower case: T1 is not t1)';

// The subject is stored verbatim as the audit trail's actor: printable text only (no controls,
// no NUL that Postgres refuses, no lone surrogate it would store altered), and bounded.
const SUBJECT_PATTERN = /^[^\p{C}]{1,256}$/u;

export function isTenantId(value: unknown): value is string {
  return typeof value === 'string' && TENANT_ID_PATTERN.test(value);
}

export function isSubject(value: unknown): value is string {
  return typeof value === 'string' && SUBJECT_PATTERN.test(value);
}
