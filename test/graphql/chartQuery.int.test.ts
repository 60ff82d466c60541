import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChartPatient } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const CHART_QUERY = /* GraphQL */ `
  query Chart($id: ID!) {
    patient(id: $id) {
      name
      careTeam {
        name
      }
      records(first: 100) {
        diagnosis
        author {
          name
          department {
            name
          }
        }
      }
      studies {
        modality
        orderingDoctor {
          name
        }
      }
    }
  }
`;

/**
 * One statement each for: the patient, its care team, its records, its studies, the doctors
 * those name, and those doctors' departments. The permission checks reuse the care-team load.
 * The audit INSERT comes on top, and is counted apart.
 */
const CHART_STATEMENTS = 6;

describe('the patient chart query', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  async function statementsForChart(recordCount: number, mrn: string) {
    const fixture = await createChartPatient(server.database.db, {
      recordCount,
      studyCount: 3,
      mrn,
    });
    const token = await server.token({ role: 'clinician', doctorId: fixture.careTeamDoctorId });
    const before = server.statements();
    const audits = server.auditInserts();
    const response = await server.graphql(CHART_QUERY, {
      token,
      variables: { id: fixture.patientId },
    });
    const statements = server.statements() - before;
    // Every PHI entity the chart returned is audited, in one INSERT.
    expect(server.auditInserts() - audits).toBe(1);
    expect(response.body.errors).toBeUndefined();
    const patient = response.body.data?.patient as { records: unknown[]; studies: unknown[] };
    expect(patient.records).toHaveLength(recordCount);
    expect(patient.studies).toHaveLength(3);
    return statements;
  }

  it('runs the same number of SQL statements for 5 records as for 50', async () => {
    const small = await statementsForChart(5, 'CHART0005');
    const large = await statementsForChart(50, 'CHART0050');
    expect(small).toBe(CHART_STATEMENTS);
    expect(large).toBe(CHART_STATEMENTS);
  });

  it('counts statements in caregraph_db_queries_total by table', async () => {
    const metrics = await server.metrics.registry.getSingleMetricAsString(
      'caregraph_db_queries_total',
    );
    expect(metrics).toMatch(/caregraph_db_queries_total\{table="medical_records"\} \d+/);
    expect(metrics).toMatch(/caregraph_db_queries_total\{table="care_team"\} \d+/);
  });
});
