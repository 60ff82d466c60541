// `2026-01-02 03:04:05[.ffffff]+00`: Postgres's text form of a timestamptz in UTC.
const POSTGRES_UTC =
  /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(?:\+00(?::?00)?|Z)$/;

/**
 * Formats a Postgres timestamp as ISO-8601 in UTC. Drivers print timestamps differently
 * (`2026-01-02 03:04:05+00` against `2026-01-02T03:04:05.000Z`); clients always get the latter.
 *
 * A UTC value, the form the service's sessions print, is rewritten as text (milliseconds
 * truncated, as Date parsing truncates them): a chart formats hundreds of timestamps, and
 * parsing each into a Date cost more than every other field of the chart together. Any other
 * offset goes through Date.
 */
export function toIsoTimestamp(value: string): string {
  // Already ISO with milliseconds, as drizzle's PGlite driver and the L2 round trip give it.
  if (value.length === 24 && value.charCodeAt(10) === 84 && value.charCodeAt(23) === 90) {
    return value;
  }
  const match = POSTGRES_UTC.exec(value);
  if (match === null) {
    // `infinity`, `-infinity` and dates BC have no ISO form: they pass as Postgres wrote them,
    // rather than failing every row of the list they are in.
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? value : date.toISOString();
  }
  const fraction = (match[3] ?? '').slice(0, 3).padEnd(3, '0');
  return `${match[1] ?? ''}T${match[2] ?? ''}.${fraction}Z`;
}
