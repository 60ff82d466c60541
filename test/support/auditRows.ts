import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/db/client.js';
import { auditEvents, type NewAuditEvent } from '../../src/db/tables/index.js';
import { instantOfMicros, parseInstant } from '../../src/graphql/instants.js';

/** An audit row a test inserted, with what orders it. */
export interface InsertedEvent {
  readonly id: string;
  readonly micros: bigint;
  readonly row: NewAuditEvent;
}

/**
 * Inserts audit rows as the database owner, who (unlike the API's role) may set `occurred_at`:
 * the trail's order is then known in advance, ties included.
 */
export async function insertAuditRows(
  db: Database,
  rows: ReadonlyArray<Partial<NewAuditEvent> & { occurredAt: string }>,
): Promise<InsertedEvent[]> {
  const full: NewAuditEvent[] = rows.map((row) => ({
    tenantId: 't1',
    actorId: 'test-actor',
    actorRole: 'clinician',
    action: 'read',
    resourceType: 'Patient',
    requestId: randomUUID(),
    outcome: 'allowed',
    ...row,
  }));
  const ids = await db.insert(auditEvents).values(full).returning({ id: auditEvents.id });
  return full.map((row, i) => {
    const micros = parseInstant(row.occurredAt ?? '')?.micros;
    if (micros === undefined) throw new Error('a test row needs an ISO occurredAt');
    return { id: String(ids[i]?.id), micros, row };
  });
}

/** The trail's order, newest first: by time, then by id, both descending. */
export function newestFirst(events: ReadonlyArray<InsertedEvent>): string[] {
  return [...events]
    .sort((a, b) =>
      a.micros !== b.micros ? (a.micros < b.micros ? 1 : -1) : Number(b.id) - Number(a.id),
    )
    .map((event) => event.id);
}

/** `count` events one second apart from `start`, three to a second: two share the microsecond. */
export function tiedTimes(start: string, count: number): string[] {
  const base = parseInstant(start)?.micros;
  if (base === undefined) throw new Error('start must be an ISO instant');
  return Array.from({ length: count }, (_, i) => {
    const micros = base + BigInt(Math.floor(i / 3)) * 1_000_000n + (i % 3 === 2 ? 1n : 0n);
    return instantOfMicros(micros)?.iso ?? '';
  });
}
