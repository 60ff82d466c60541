import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAuditCursor } from '../../src/audit/auditCursor.js';
import type { Role } from '../../src/auth/principal.js';
import { insertAuditRows, newestFirst, type InsertedEvent } from '../support/auditRows.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const IDS = `query Ids($filter: AuditEventFilter, $first: Int, $after: String) {
  auditEventsPage(filter: $filter, first: $first, after: $after) {
    edges { node { id action } } totalCount
  }
}`;

describe('auditEventsPage filters', () => {
  let server: TestServer;
  let auditor: string;
  let seeded: InsertedEvent[];
  const actorA = `actor-a-${randomUUID()}`;
  const actorB = `actor-b-${randomUUID()}`;
  const patientId = randomUUID();

  beforeAll(async () => {
    server = await startTestServer();
    auditor = await server.token({ role: 'auditor' });
    seeded = await insertAuditRows(server.database.db, [
      { occurredAt: '2004-05-31T23:59:59.999999Z', actorId: actorA },
      { occurredAt: '2004-06-01T00:00:00Z', actorId: actorA, patientId },
      { occurredAt: '2004-06-01T12:00:00Z', actorId: actorB, action: 'deny', outcome: 'denied' },
      {
        occurredAt: '2004-06-01T13:00:00Z',
        actorId: actorA,
        action: 'export',
        resourceType: 'AuditEvent',
      },
      { occurredAt: '2004-06-01T23:59:59.999999Z', actorId: actorB, patientId },
      { occurredAt: '2004-06-02T00:00:00Z', actorId: actorA },
    ]);
  });
  afterAll(async () => {
    await server.close();
  });

  async function ids(filter: Record<string, unknown>): Promise<string[]> {
    const response = await server.graphql(IDS, {
      token: auditor,
      variables: { filter, first: 500 },
    });
    expect(response.body.errors).toBeUndefined();
    const page = response.body.data?.auditEventsPage as {
      edges: Array<{ node: { id: string } }>;
      totalCount: number;
    };
    expect(page.totalCount).toBe(page.edges.length);
    return page.edges.map((edge) => edge.node.id);
  }
  const expected = (...indexes: number[]) =>
    newestFirst(indexes.map((i) => seeded[i] as InsertedEvent));

  it('selects a half-open time range, [from, to), to the microsecond', async () => {
    const june = { from: '2004-06-01', to: '2004-06-02' };
    expect(await ids(june)).toEqual(expected(1, 2, 3, 4));
    expect(await ids({ from: '2004-06-01T02:00:00+02:00', to: '2004-06-01T13:00:00Z' })).toEqual(
      expected(1, 2),
    );
    expect(await ids({ from: '2004-05-31T23:59:59.999999Z', to: '2004-06-01T00:00:00Z' })).toEqual(
      expected(0),
    );
  });

  it('selects by actor, action, patient and resource type, each alone and together', async () => {
    const range = { from: '2004-01-01', to: '2005-01-01' };
    expect(await ids({ ...range, actorId: actorB })).toEqual(expected(2, 4));
    expect(await ids({ ...range, action: 'DENY' })).toEqual(expected(2));
    expect(await ids({ ...range, patientId: patientId.toUpperCase() })).toEqual(expected(1, 4));
    expect(await ids({ ...range, resourceType: 'AuditEvent' })).toEqual(expected(3));
    expect(await ids({ ...range, actorId: actorA, patientId })).toEqual(expected(1));
    expect(await ids({ actorId: actorA, action: 'READ' })).toEqual(expected(0, 1, 5));
  });

  it('serves an export event with its action', async () => {
    const response = await server.graphql(IDS, {
      token: auditor,
      variables: { filter: { actorId: actorA, action: 'EXPORT' } },
    });
    expect(response.body.data?.auditEventsPage).toMatchObject({
      edges: [{ node: { id: seeded[3]?.id, action: 'EXPORT' } }],
    });
  });

  it.each([
    ['a cursor that is not base64url', { after: 'not a cursor!' }, 'after'],
    [
      'a cursor of other text',
      { after: Buffer.from('hello|world').toString('base64url') },
      'after',
    ],
    [
      'a cursor with a time Postgres would not keep',
      { after: Buffer.from('a1|2004-06-01T00:00:00Z|5').toString('base64url') },
      'after',
    ],
    ['first of 0', { first: 0 }, 'first'],
    ['first over 500', { first: 501 }, 'first'],
    ['a time without an offset', { filter: { from: '2004-06-01T00:00:00' } }, 'filter.from'],
    ['a day no calendar has', { filter: { to: '2004-02-30' } }, 'filter.to'],
    [
      'a range that ends before it starts',
      { filter: { from: '2004-06-02', to: '2004-06-01' } },
      'filter.to',
    ],
    ['an empty range', { filter: { from: '2004-06-01', to: '2004-06-01T00:00:00Z' } }, 'filter.to'],
    ['a patient id that is no uuid', { filter: { patientId: 'P-1' } }, 'filter.patientId'],
    ['a blank actor', { filter: { actorId: ' ' } }, 'filter.actorId'],
  ])('refuses %s with BAD_USER_INPUT naming the argument', async (_label, variables, argument) => {
    const response = await server.graphql(IDS, { token: auditor, variables });
    expect(response.status).toBe(200);
    const [error] = response.body.errors ?? [];
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: argument });
    expect(error?.message).toMatch(new RegExp(`^Invalid ${argument.replace('.', '\\.')}: `));
    for (const value of Object.values((variables as { filter?: object }).filter ?? {})) {
      expect(error?.message).not.toContain(String(value).trim() || '\u0000');
    }
    expect(error?.message).not.toContain('not a cursor!');
    expect(response.body.data?.auditEventsPage).toBeNull();
  });

  it('accepts a well-formed cursor that points anywhere: it only names a place', async () => {
    const after = encodeAuditCursor({ occurredAt: '2004-06-01T12:00:00.000000Z', id: 1 });
    const response = await server.graphql(IDS, {
      token: auditor,
      variables: { after, filter: { from: '2004-06-01', to: '2004-06-02' } },
    });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.auditEventsPage).toMatchObject({
      edges: expected(1).map((id) => ({ node: { id } })),
      totalCount: 4,
    });
  });

  it.each<Role>(['clinician', 'frontdesk', 'patient', 'admin'])(
    'refuses the trail to a %s with FORBIDDEN, serving the rest of the response',
    async (role) => {
      const token = await server.token({
        role,
        doctorId: role === 'clinician' ? randomUUID() : undefined,
        patientId: role === 'patient' ? randomUUID() : undefined,
      });
      const response = await server.graphql(
        '{ departments { id } auditEventsPage(first: 5) { edges { node { id } } totalCount } }',
        { token },
      );
      expect(response.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([
        [['auditEventsPage'], 'FORBIDDEN'],
      ]);
      expect(response.body.data?.auditEventsPage).toBeNull();
      expect(response.body.data?.departments).not.toHaveLength(0);
    },
  );
});
