/**
 * The plaintext of an L2 entry, sealed whole: a fixed-length header, the stamp the entry was
 * written under, then its JSON.
 *
 *     e | written at (12 hex, ms since 1970) | TTL (10 hex, ms) | stamp length (2 hex) | stamp | JSON
 *
 * The stamp sits before the JSON, so a read checks it without parsing the JSON of an entry it
 * will not serve; the write time and the TTL the entry was written with let a reader, or a
 * near cache, tell when it expires without asking Redis. Sealed with the entry, all of it is
 * authenticated. The header is ASCII, so it survives the UTF-8 of the sealed plaintext.
 */
const FORMAT = 'e';
const WRITTEN_AT = 1;
const TTL_AT = WRITTEN_AT + 12;
const STAMP_LENGTH_AT = TTL_AT + 10;
const STAMP_AT = STAMP_LENGTH_AT + 2;
const MAX_STAMP_LENGTH = 0xff;

/** An opened entry whose stamp matched. */
export interface EntryFrame {
  readonly writtenAtMs: number;
  readonly ttlMs: number;
  readonly json: string;
}

/** The frame of an entry read under another stamp (older or newer): never served. */
export const OTHER_STAMP = 'other stamp';
/** The frame of an entry past the TTL sealed into it: never served, whatever the store says. */
export const EXPIRED = 'expired';

/**
 * The plaintext of an entry.
 *
 * @returns undefined when the stamp is too long to frame (no entry is written then).
 */
export function frameEntry(
  stamp: string,
  writtenAtMs: number,
  ttlMs: number,
  json: string,
): string | undefined {
  if (stamp.length > MAX_STAMP_LENGTH) return undefined;
  return FORMAT + hex(writtenAtMs, 12) + hex(ttlMs, 10) + hex(stamp.length, 2) + stamp + json;
}

/**
 * Reads an entry's frame, checking its stamp first and its sealed expiry next.
 *
 * @returns the frame; `OTHER_STAMP` or `EXPIRED` for an entry not to serve; undefined when the
 *   plaintext is no entry frame.
 */
export function readEntryFrame(
  plaintext: string,
  stamp: string,
  nowMs: number,
): EntryFrame | typeof OTHER_STAMP | typeof EXPIRED | undefined {
  if (plaintext.length < STAMP_AT || plaintext[0] !== FORMAT) return undefined;
  const stampLength = hexAt(plaintext, STAMP_LENGTH_AT, STAMP_AT);
  if (stampLength < 0 || plaintext.length < STAMP_AT + stampLength) return undefined;
  if (stampLength !== stamp.length || !plaintext.startsWith(stamp, STAMP_AT)) return OTHER_STAMP;
  const writtenAtMs = hexAt(plaintext, WRITTEN_AT, TTL_AT);
  const ttlMs = hexAt(plaintext, TTL_AT, STAMP_LENGTH_AT);
  if (writtenAtMs < 0 || ttlMs < 0) return undefined;
  if (nowMs >= writtenAtMs + ttlMs) return EXPIRED;
  return { writtenAtMs, ttlMs, json: plaintext.slice(STAMP_AT + stampLength) };
}

function hex(value: number, digits: number): string {
  return Math.max(0, Math.floor(value)).toString(16).padStart(digits, '0').slice(-digits);
}

/** The lower-case hex number in `text` from `from` to `to`, or -1 when it is not one. */
function hexAt(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}
