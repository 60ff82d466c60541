import { parseInstant } from '../graphql/instants.js';

/**
 * A place in the audit trail's order, (occurred_at, id): the time alone does not order events,
 * since one request's events share it, and the id alone does not, since a transaction that
 * started first may commit its events last.
 */
export interface AuditPosition {
  /** `occurred_at` as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, to the microsecond Postgres keeps. */
  readonly occurredAt: string;
  readonly id: number;
}

// Bumped if a cursor ever needs to say more; a cursor of another version is malformed.
const VERSION = 'a1';
const CANONICAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const ID = /^[1-9]\d{0,15}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * The opaque cursor of a position: base64url of the version, the time and the id. It names a
 * place only, never a tenant or a filter, which every page applies again, so a cursor carried
 * to another tenant or filter reveals nothing and selects nothing it would not select anyway.
 */
export function encodeAuditCursor(position: AuditPosition): string {
  return Buffer.from(`${VERSION}|${position.occurredAt}|${String(position.id)}`).toString(
    'base64url',
  );
}

/** @returns the position, or undefined when the text is not a cursor this service made. */
export function decodeAuditCursor(cursor: string): AuditPosition | undefined {
  if (cursor.length > 100 || !BASE64URL.test(cursor)) return undefined;
  const [version, occurredAt = '', id = '', ...rest] = Buffer.from(cursor, 'base64url')
    .toString('utf8')
    .split('|');
  if (version !== VERSION || rest.length > 0 || !ID.test(id)) return undefined;
  if (!CANONICAL_TIME.test(occurredAt) || parseInstant(occurredAt)?.iso !== occurredAt) {
    return undefined;
  }
  return { occurredAt, id: Number(id) };
}
