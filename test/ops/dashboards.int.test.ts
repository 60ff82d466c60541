import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededPatient } from '../support/fixtures.js';
import { exportedMetrics, metricProblems, type ExportedMetric } from '../support/metricProblems.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { waitFor } from '../support/waitFor.js';
import {
  alertExpressions,
  DASHBOARD_PATH,
  dashboardExpressions,
  readAlerts,
  readDashboard,
  type OpsExpression,
} from './opsFiles.js';

const CHART = 'query ($id: ID!) { patient(id: $id) { id name records { id recordedAt } } }';

/** The declared label names of a metric of the registry (prom-client keeps them per metric). */
function declaredLabels(server: TestServer, name: string): ReadonlyArray<string> {
  const metric = server.metrics.registry.getSingleMetric(name) as
    { labelNames?: ReadonlyArray<string> } | undefined;
  return metric?.labelNames ?? [];
}

describe('the metrics of ops/ against GET /metrics', () => {
  let server: TestServer;
  let text: string;
  let exported: ReadonlyMap<string, ExportedMetric>;
  const problemsOf = (expressions: ReadonlyArray<OpsExpression>) =>
    expressions.flatMap(({ where, expr }) =>
      metricProblems(expr, exported).map((problem) => `${where}: ${problem}`),
    );

  beforeAll(async () => {
    server = await startTestServer();
    const patient = await seededPatient(server.database.db, 't1', 4);
    const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    // A chart read: a miss at every layer first, then, once its entries are in L2, a hit there.
    text = await waitFor('an L2 hit on the chart', async () => {
      const response = await server.graphql(CHART, { token, variables: { id: patient.patientId } });
      expect(response.status).toBe(200);
      const scraped = await (await fetch(`${server.url}/metrics`)).text();
      return /^caregraph_cache_requests_total\{[^}]*layer="l2"[^}]*result="hit"[^}]*\} [1-9]/m.test(
        scraped,
      )
        ? scraped
        : undefined;
    });
    exported = exportedMetrics(text, (name) => declaredLabels(server, name));
  });
  afterAll(async () => {
    await server.close();
  });

  it('has the labelled series of a chart read: requests, lookups of both layers, SQL by table', () => {
    expect(text).toMatch(
      /^caregraph_http_request_duration_seconds_count\{[^}]*route="\/graphql"[^}]*\} [1-9]/m,
    );
    for (const layer of ['l1', 'l2']) {
      for (const result of ['hit', 'miss']) {
        expect(text).toMatch(
          new RegExp(
            `^caregraph_cache_requests_total\\{layer="${layer}",type="\\w+",result="${result}"\\} [1-9]`,
            'm',
          ),
        );
      }
    }
    expect(text).toMatch(/^caregraph_db_queries_total\{table="patients"\} [1-9]/m);
    expect(text).toMatch(/^caregraph_audit_commit_duration_seconds_count [1-9]/m);
  });

  it('exports every metric and label the dashboard uses', () => {
    const expressions = dashboardExpressions(readDashboard());
    expect(expressions.length).toBeGreaterThan(30);
    expect(problemsOf(expressions)).toEqual([]);
  });

  it('exports every metric and label the alert rules use', () => {
    const expressions = alertExpressions(readAlerts());
    expect(expressions.length).toBeGreaterThan(5);
    expect(problemsOf(expressions)).toEqual([]);
  });

  it('names the panel of a dashboard that uses a misspelled metric or label', () => {
    const json = readFileSync(DASHBOARD_PATH, 'utf8');
    const misspelled = readDashboard(
      json.replace('caregraph_redis_errors_total', 'caregraph_redis_error_total'),
    );
    expect(problemsOf(dashboardExpressions(misspelled))).toEqual([
      expect.stringMatching(
        /^panel "Redis errors by operation" A: caregraph_redis_error_total is not exported/,
      ),
    ]);
    const mislabelled = readDashboard(
      json.replace('layer=\\"l1\\",result=\\"hit\\"', 'layr=\\"l1\\",result=\\"hit\\"'),
    );
    expect(problemsOf(dashboardExpressions(mislabelled))).toEqual([
      expect.stringMatching(/caregraph_cache_requests_total has no label "layr"/),
    ]);
  });
});
