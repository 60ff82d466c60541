import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAuditRows, newestFirst, tiedTimes } from '../support/auditRows.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const PAGE = `query Page($filter: AuditEventFilter, $first: Int, $after: String) {
  auditEventsPage(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id occurredAt actorId action } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}`;

interface Page {
  edges: Array<{ cursor: string; node: { id: string; occurredAt: string; actorId: string } }>;
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: number;
}

describe('auditEventsPage', () => {
  let server: TestServer;
  let auditor: string;
  beforeAll(async () => {
    server = await startTestServer();
    auditor = await server.token({ role: 'auditor' });
  });
  afterAll(async () => {
    await server.close();
  });

  async function page(variables: Record<string, unknown>, token = auditor): Promise<Page> {
    const response = await server.graphql(PAGE, { token, variables });
    expect(response.body.errors).toBeUndefined();
    return response.body.data?.auditEventsPage as Page;
  }

  it('pages through every event once, newest first, while new events are recorded', async () => {
    const actorId = `pager-${randomUUID()}`;
    // Ties on the very microsecond, and neighbours one microsecond apart, in one millisecond.
    const seeded = await insertAuditRows(
      server.database.db,
      tiedTimes('2001-02-03T04:05:06.007Z', 31).map((occurredAt) => ({ occurredAt, actorId })),
    );
    const filter = { actorId };
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let after: string | null = null;
    for (let n = 0; n < 10; n++) {
      const result = await page({ filter, first: 7, after });
      seen.push(...result.edges.map((edge) => edge.node.id));
      pageSizes.push(result.edges.length);
      expect(result.pageInfo.hasPreviousPage).toBe(false);
      expect(result.pageInfo.startCursor).toBe(result.edges[0]?.cursor ?? null);
      expect(result.pageInfo.endCursor).toBe(result.edges.at(-1)?.cursor ?? null);
      // The API records with the time of its own clock: newer than any page already read.
      await insertAuditRows(server.database.db, [
        { occurredAt: new Date().toISOString(), actorId },
      ]);
      if (!result.pageInfo.hasNextPage) break;
      after = result.pageInfo.endCursor;
    }
    expect(pageSizes).toEqual([7, 7, 7, 7, 3]);
    expect(seen).toEqual(newestFirst(seeded));
    // The events recorded meanwhile are there for a client that starts again.
    const fresh = await page({ filter, first: 500 });
    expect(fresh.totalCount).toBe(31 + 5);
    expect(fresh.edges.slice(5).map((edge) => edge.node.id)).toEqual(newestFirst(seeded));
  });

  it('orders events of one microsecond by id and keeps their full precision in the cursor', async () => {
    const actorId = `tie-${randomUUID()}`;
    const seeded = await insertAuditRows(server.database.db, [
      { occurredAt: '2002-01-01T00:00:00.000001Z', actorId },
      { occurredAt: '2002-01-01T00:00:00.000002Z', actorId },
      { occurredAt: '2002-01-01T00:00:00.000001Z', actorId },
      { occurredAt: '2002-01-01T00:00:00.000000Z', actorId },
    ]);
    const ids: string[] = [];
    let after: string | null = null;
    for (let n = 0; n < 4; n++) {
      const result = await page({ filter: { actorId }, first: 1, after });
      ids.push(...result.edges.map((edge) => edge.node.id));
      after = result.pageInfo.endCursor;
    }
    expect(ids).toEqual(newestFirst(seeded));
    const last = await page({ filter: { actorId }, first: 1, after });
    expect(last).toMatchObject({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    expect(last.totalCount).toBe(4);
  });

  it('shows an auditor their own tenant only, whatever cursor or filter they bring', async () => {
    const actorId = `shared-${randomUUID()}`;
    const times = tiedTimes('2003-01-01T00:00:00Z', 6);
    const t1 = await insertAuditRows(
      server.database.db,
      times.map((occurredAt) => ({ occurredAt, actorId, tenantId: 't1' })),
    );
    const t2 = await insertAuditRows(
      server.database.db,
      times.map((occurredAt) => ({ occurredAt, actorId, tenantId: 't2' })),
    );
    const first = await page({ filter: { actorId }, first: 2 });
    expect(first.edges.map((edge) => edge.node.id)).toEqual(newestFirst(t1).slice(0, 2));
    // t1's cursor in a t2 auditor's hands: a place in time, applied to t2's own events.
    const other = await server.token({ role: 'auditor', tenant: 't2' });
    const carried = await page(
      { filter: { actorId }, first: 10, after: first.pageInfo.endCursor },
      other,
    );
    const t2Ids = new Set(t2.map((event) => event.id));
    expect(carried.edges.length).toBeGreaterThan(0);
    expect(carried.edges.every((edge) => t2Ids.has(edge.node.id))).toBe(true);
    expect(carried.totalCount).toBe(6);
    const all = await page({ first: 500, filter: { from: '2003-01-01', to: '2003-01-02' } }, other);
    expect(all.edges.map((edge) => edge.node.id)).toEqual(newestFirst(t2));
  });

  it('leaves the SPEC field as it was: the newest events, of a patient or of all', async () => {
    const patientId = randomUUID();
    const seeded = await insertAuditRows(
      server.database.db,
      tiedTimes('2099-01-01T00:00:00Z', 4).map((occurredAt) => ({ occurredAt, patientId })),
    );
    const response = await server.graphql(
      'query ($p: ID) { byPatient: auditEvents(patientId: $p, first: 3) { id } newest: auditEvents(first: 2) { id } }',
      { token: auditor, variables: { p: patientId } },
    );
    expect(response.body.errors).toBeUndefined();
    const ids = (key: string) =>
      (response.body.data?.[key] as Array<{ id: string }>).map((event) => event.id);
    expect(ids('byPatient')).toEqual(newestFirst(seeded).slice(0, 3));
    expect(ids('newest')).toEqual(newestFirst(seeded).slice(0, 2));
  });

  it('records no audit event for reading the trail, as auditEvents does not', async () => {
    const before = await page({ first: 1 });
    await page({ first: 50 });
    await server.graphql('{ auditEvents(first: 5) { id } }', { token: auditor });
    const after = await page({ first: 1 });
    expect(after.totalCount).toBe(before.totalCount);
  });
});
