import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { and, eq, ne } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { doctors, medicalRecords, patients, studies } from '../../src/db/tables/index.js';
import { createTracing, type Tracing } from '../../src/tracing/createTracing.js';
import { Canaries, canaryRequests, type CanaryRequest } from '../support/canaryRequests.js';
import { exportedSpan } from '../support/exportedSpan.js';
import { createChartPatient } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { waitFor } from '../support/waitFor.js';

describe('spans', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let server: TestServer;

  beforeAll(async () => {
    tracing = createTracing(loadConfig({}).tracing, {
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    server = await startTestServer({}, undefined, { tracing });
  });
  afterAll(async () => {
    await server.close();
    await tracing.shutdown();
  });

  async function send(request: CanaryRequest, doctorId: string): Promise<void> {
    const token = await server.token({
      role: request.role,
      ...(request.role === 'clinician' ? { doctorId: request.doctorId ?? doctorId } : {}),
    });
    const headers = { authorization: `Bearer ${token}`, ...request.headers };
    const response =
      request.method === 'GET'
        ? await fetch(
            `${server.url}/graphql?${new URLSearchParams({
              query: request.query,
              variables: JSON.stringify(request.variables ?? {}),
            }).toString()}`,
            { headers },
          )
        : await fetch(`${server.url}/graphql`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify({ query: request.query, variables: request.variables }),
          });
    await response.arrayBuffer();
  }

  it('hold no name, MRN, id, search term, variable or header value of any request', async () => {
    const { db } = server.database;
    const canaries = new Canaries();
    const name = canaries.mint('text');
    const mrn = `MRN${randomBytes(4).toString('hex').toUpperCase()}`;
    canaries.minted.push(mrn);
    const chart = await createChartPatient(db, { recordCount: 2, studyCount: 1, mrn });
    await db.update(patients).set({ name }).where(eq(patients.id, chart.patientId));
    const [study] = await db.select().from(studies).where(eq(studies.patientId, chart.patientId));
    const records = await db
      .select({ id: medicalRecords.id })
      .from(medicalRecords)
      .where(eq(medicalRecords.patientId, chart.patientId));
    const [other] = await db
      .select({ id: doctors.id })
      .from(doctors)
      .where(and(eq(doctors.tenantId, 't1'), ne(doctors.id, chart.careTeamDoctorId)))
      .limit(1);
    if (study === undefined || other === undefined) throw new Error('fixture incomplete');
    const fixture = {
      patientId: chart.patientId,
      studyId: study.id,
      careTeamDoctorId: chart.careTeamDoctorId,
      otherDoctorId: other.id,
    };
    const chartRead: CanaryRequest = {
      label: 'chart',
      role: 'clinician',
      query: `query ($id: ID!) { patient(id: $id) { name mrn records { id diagnosis notes } studies { id } } }`,
      variables: { id: chart.patientId },
    };
    const requests = [chartRead, chartRead, ...canaryRequests(fixture, canaries, false)];
    exporter.reset();
    for (const request of requests) await send(request, chart.careTeamDoctorId);
    await waitFor(
      'every request span',
      () =>
        exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.SERVER).length >=
        requests.length,
    );

    const spans = exporter.getFinishedSpans();
    // The requests were traced down to their statements, so there was room to leak into.
    expect(spans.some((span) => span.name.startsWith('SELECT'))).toBe(true);
    expect(spans.some((span) => span.name === 'l2.get')).toBe(true);
    expect(spans.some((span) => span.name === 'audit.commit')).toBe(true);
    const exported = JSON.stringify(spans.map(exportedSpan)).toLowerCase();
    const secrets = [
      ...canaries.minted,
      ...Object.values(fixture),
      ...records.map((record) => record.id),
    ];
    expect(secrets.length).toBeGreaterThan(35);
    expect(secrets.filter((secret) => exported.includes(secret.toLowerCase()))).toEqual([]);
    // Nor the statements themselves (drizzle writes them in lower case).
    expect(exported).not.toMatch(/select "|insert into|json_to_recordset/);
  });
});
