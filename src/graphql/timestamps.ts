/**
 * Formats a Postgres timestamp as ISO-8601 in UTC. Drivers print timestamps differently
 * (`2026-01-02 03:04:05+00` against `2026-01-02T03:04:05.000Z`); clients always get the latter.
 */
export function toIsoTimestamp(value: string): string {
  return new Date(value).toISOString();
}
