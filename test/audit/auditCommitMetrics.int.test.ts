import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededPatient } from '../support/fixtures.js';
import { metricValue } from '../support/metricValue.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const CHART = 'query ($id: ID!) { patient(id: $id) { name records { diagnosis } } }';

describe('audit commit metrics', () => {
  let server: TestServer;
  let chart: () => ReturnType<TestServer['graphql']>;
  beforeAll(async () => {
    server = await startTestServer();
    const patient = await seededPatient(server.database.db, 't1', 2);
    const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    chart = () => server.graphql(CHART, { token, variables: { id: patient.patientId } });
  });
  afterAll(async () => {
    await server.close();
  });

  /** The histogram's `_count`: commits observed so far. */
  const commits = async () => {
    const { values } = await server.metrics.auditCommitDuration.get();
    return (
      values.find((v) => v.metricName === 'caregraph_audit_commit_duration_seconds_count')?.value ??
      0
    );
  };
  const failures = () =>
    metricValue(server.metrics.registry, 'caregraph_audit_commit_failures_total');

  it('times the audit commit of each request that read PHI', async () => {
    const [before, failedBefore] = [await commits(), await failures()];
    expect((await chart()).status).toBe(200);
    expect(await commits()).toBe(before + 1);
    expect(await failures()).toBe(failedBefore);
  });

  it('does not time a request that has nothing to audit', async () => {
    const admin = await server.token({ role: 'admin' });
    const before = await commits();
    expect((await server.graphql('{ departments { name } }', { token: admin })).status).toBe(200);
    expect(await commits()).toBe(before);
  });

  it('counts a commit that fails, whose response is withheld', async () => {
    const [before, failedBefore] = [await commits(), await failures()];
    await server.database.db.execute(sql`alter table audit_events rename to audit_events_away`);
    try {
      const response = await chart();
      expect(response.status).toBe(503);
      expect(response.body.errors?.[0]?.extensions?.code).toBe('AUDIT_UNAVAILABLE');
    } finally {
      await server.database.db.execute(sql`alter table audit_events_away rename to audit_events`);
    }
    expect(await failures()).toBe(failedBefore + 1);
    expect(await commits()).toBe(before + 1);
  });
});
