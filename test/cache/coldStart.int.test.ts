import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededPatient } from '../support/fixtures.js';
import { metricValue } from '../support/metricValue.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const CHART = `query ($id: ID!) { patient(id: $id) { name records(first: 3) { diagnosis } } }`;

// Many requests read the same control values absent at once on a cold L2 (a deploy, a Redis
// restart); all but one of their "if absent" creations are refused, which is the ordinary
// race, not a key of another Redis type: nothing is replaced, and nothing is logged as broken.
describe('a cold L2 under concurrent requests', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('creates each control value once and replaces none', async () => {
    const patient = await seededPatient(server.database.db, 't1', 9);
    const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        Array.from({ length: 40 }, () =>
          server.graphql(CHART, { token, variables: { id: patient.patientId } }),
        ),
      );
      for (const answer of answers) expect(answer.body.errors).toBeUndefined();
    }
    expect(
      await metricValue(server.metrics.registry, 'caregraph_cache_control_replaced_total'),
    ).toBe(0);
    // And the chart is served from L2 after all.
    const hits = await metricValue(server.metrics.registry, 'caregraph_cache_requests_total', {
      layer: 'l2',
      result: 'hit',
    });
    expect(hits).toBeGreaterThan(0);
  });
});
