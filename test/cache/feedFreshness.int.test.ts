import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generationKey } from '../../src/cache/controlValues.js';
import { FRESH_MS } from '../../src/cache/invalidationFeed.js';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { metricValue } from '../support/metricValue.js';
import { queryRows } from '../support/queryRows.js';
import { tcpProxy, type TcpProxy } from '../support/tcpProxy.js';
import { createTestDatabase } from '../support/testDatabase.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { waitFor } from '../support/waitFor.js';

const CHART = `query Chart($id: ID!) { patient(id: $id) { name records { diagnosis } studies { modality } } }`;

// The invalidation feed lives on Postgres's LISTEN/NOTIFY: a real Postgres only.
describe.runIf(inject('postgresRun') !== null)('the invalidation feed', () => {
  let owner: DatabaseHandle & { url: string | undefined };
  let proxy: TcpProxy;
  let server: TestServer;
  let patient: SeededPatient;
  let clinician: string;

  beforeAll(async () => {
    owner = await createTestDatabase();
    const url = new URL(owner.url ?? '');
    proxy = await tcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    const proxied = new URL(url);
    proxied.port = String(proxy.port);
    // The production feed timings: what is tested here is how soon it stops vouching.
    server = await startTestServer({}, undefined, {
      database: (onStatement) =>
        createDatabase({ url: proxied.toString(), poolMax: 5, onStatement }),
      feed: {},
    });
    patient = await seededPatient(owner.db, 't1', 1);
    clinician = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
  }, 60_000);
  afterAll(async () => {
    await server.app.close();
    await server.database.close();
    await proxy.close();
    await owner.close();
  });

  it('takes only invalidations that were committed: a forged NOTIFY moves no floor', async () => {
    const key = generationKey(server.l2.space, 't1', {
      kind: 'patient',
      patientId: patient.patientId,
    });
    const rejected = () =>
      metricValue(server.metrics.registry, 'caregraph_cache_invalidations_rejected_total');
    const before = await rejected();
    // Any role that can connect may NOTIFY; a number far ahead would outlive every later write.
    const forged = JSON.stringify({
      seq: Number.MAX_SAFE_INTEGER,
      tenant: 't1',
      scopes: [`patient:${patient.patientId}`],
    });
    await owner.db.execute(sql`select pg_notify('caregraph_cache_invalidation', ${forged})`);
    const malformed = '{"seq":"x';
    await owner.db.execute(sql`select pg_notify('caregraph_cache_invalidation', ${malformed})`);
    await waitFor('the forgeries to be rejected', async () => (await rejected()) >= before + 2);
    expect(server.l2.floors.floorOf(key)).toBe(0);
    // A real write is still heard, at its own number.
    const frontdesk = await server.token({ role: 'frontdesk' });
    const updated = await server.graphql(
      'mutation ($id: ID!) { updatePatient(id: $id, input: { phone: "+1 555 0100" }) { id } }',
      { variables: { id: patient.patientId }, token: frontdesk },
    );
    expect(updated.body.errors).toBeUndefined();
    const [row] = await queryRows<{ seq: number }>(
      owner.db,
      sql`select max(seq)::int as seq from cache_invalidations`,
    );
    expect(server.l2.floors.floorOf(key)).toBe(row?.seq);
  });

  it('serves nothing from L2 while it cannot prove it hears every write, and again once it can', async () => {
    for (let i = 0; i < 2; i++) {
      const warm = await server.graphql(CHART, {
        variables: { id: patient.patientId },
        token: clinician,
      });
      expect(warm.body.errors).toBeUndefined();
    }
    // A stall of the loaded machine may have let the last proof lapse; it comes back.
    await waitFor('the feed to vouch for L2', () => server.l2.fresh());
    proxy.cut();
    const cutAt = Date.now();
    // Its last proof is a ping sent before the cut: FRESH_MS after the cut, it vouches no more.
    while (Date.now() < cutAt + FRESH_MS) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.l2.fresh()).toBe(false);
    const reads = await server.l2.forRequest('t1').read([
      {
        key: `${server.l2.space.prefix}:${server.l2.space.schemaVersion}:{t1:p:${patient.patientId}}:Patient:${patient.patientId}`,
        scope: { kind: 'patient', patientId: patient.patientId },
      },
    ]);
    expect(reads).toEqual([undefined]);
    proxy.restore();
    await waitFor('the feed to listen again', () => server.l2.fresh(), 20_000);
    const after = await server.graphql(CHART, {
      variables: { id: patient.patientId },
      token: clinician,
    });
    expect(after.body.errors).toBeUndefined();
  });

  // Last in the file: it takes the freshness check over, and raises a floor for good.
  it('refuses an answer read from L2 before a write it could not hear, once it had to wait to hear again', async () => {
    for (let i = 0; i < 2; i++) {
      const warm = await server.graphql(CHART, {
        variables: { id: patient.patientId },
        token: clinician,
      });
      expect(warm.body.errors).toBeUndefined();
    }
    let fresh = true;
    server.l2.useFreshness(() => fresh);
    const admin = postgres(owner.url ?? '', { max: 2, onnotice: () => undefined });
    try {
      let answer: ReturnType<typeof server.graphql> | undefined;
      // The audit table locked: the request reads L2, then waits at its audit commit.
      await admin.begin(async (tx) => {
        await tx`lock table audit_events in exclusive mode`;
        answer = server.graphql(CHART, { variables: { id: patient.patientId }, token: clinician });
        await waitFor('the audit commit to wait on the lock', async () => {
          const [row] = await admin<Array<{ n: number }>>`
            select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'`;
          return (row?.n ?? 0) > 0;
        });
        // Meanwhile the instance loses its proof of hearing every write, and a write it could not
        // hear then supersedes the patient's generation it read.
        fresh = false;
        server.l2.observe(
          't1',
          [{ kind: 'patient', patientId: patient.patientId }],
          Number.MAX_SAFE_INTEGER - 1,
        );
      });
      setTimeout(() => {
        fresh = true;
      }, 300);
      const response = await answer;
      expect(response?.status).toBe(503);
      expect(response?.body.errors?.[0]?.extensions?.code).toBe('CACHE_UNVERIFIED');
      expect(response?.headers.get('retry-after')).toBe('1');
      expect(JSON.stringify(response?.body)).not.toContain('records');
    } finally {
      await admin.end();
    }
  });
});
