/** One instant, to the microsecond: the precision of a Postgres timestamp. */
export interface Instant {
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ`: UTC, always six fraction digits, sortable as text. */
  readonly iso: string;
  /** Microseconds since the Unix epoch, for comparisons that milliseconds would blur. */
  readonly micros: bigint;
}

// A calendar date alone, or a date and time with an explicit offset. A time without an offset
// is refused: it would mean the server's time zone, which the caller cannot see.
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Parses an ISO-8601 instant: `2026-01-02T03:04:05.123456Z`, any offset (`+01:00`), or a
 * date alone (`2026-01-02`), which means midnight UTC. Digits past the microsecond are dropped.
 *
 * @returns the instant, or undefined when the text is not one (a missing offset, a 30 February).
 */
export function parseInstant(text: string): Instant | undefined {
  const date = DATE_ONLY.exec(text);
  const match = date ?? DATE_TIME.exec(text);
  if (match === null) return undefined;
  const [, year = '', month = '', day = '', hour = '0', minute = '0', second = '0'] = match;
  const fraction = date === null ? (match[7] ?? '') : '';
  const offset = date === null ? (match[8] ?? 'Z') : 'Z';
  const offsetMinutes = parseOffset(offset);
  const fields = [Number(month), Number(day), Number(hour), Number(minute), Number(second)];
  const [m = 0, d = 0, h = 0, min = 0, s = 0] = fields;
  if (offsetMinutes === undefined || m < 1 || m > 12 || h > 23 || min > 59 || s > 59) {
    return undefined;
  }
  const utc = new Date(0);
  // setUTCFullYear, not Date.UTC, which reads years 0-99 as 1900-1999.
  utc.setUTCFullYear(Number(year), m - 1, d);
  if (utc.getUTCMonth() !== m - 1) return undefined;
  utc.setUTCHours(h, min - offsetMinutes, s, 0);
  const micros = BigInt(utc.getTime()) * 1000n + BigInt(fraction.slice(0, 6).padEnd(6, '0'));
  return instantOfMicros(micros);
}

/**
 * The instant of a count of microseconds since the epoch.
 *
 * @returns undefined outside years 0000-9999, which have no four-digit ISO form.
 */
export function instantOfMicros(micros: bigint): Instant | undefined {
  const subMillis = ((micros % 1000n) + 1000n) % 1000n;
  const millis = (micros - subMillis) / 1000n;
  const date = new Date(Number(millis));
  if (Number.isNaN(date.getTime())) return undefined;
  const iso = date.toISOString();
  if (iso.length !== 24) return undefined;
  return { iso: `${iso.slice(0, 23)}${String(subMillis).padStart(3, '0')}Z`, micros };
}

/** Minutes east of UTC, or undefined for an offset no clock has. */
function parseOffset(offset: string): number | undefined {
  if (offset === 'Z') return 0;
  const digits = offset.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2));
  if (hours > 23 || minutes > 59) return undefined;
  return (offset.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}
