import { randomBytes } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/client.js';
import { auditEvents, departments, studies } from '../../src/db/tables/index.js';
import { APP_ROLE_NAME, createAppRoleDatabase } from '../support/appRoleDatabase.js';
import type { AppRoleDatabase } from '../support/appRoleDatabase.js';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { queryRows } from '../support/queryRows.js';
import { spawnServer } from '../support/spawnServer.js';
import { startTestServer, type GraphQLResponse, type TestServer } from '../support/testServer.js';

const CHART = `query Chart($id: ID!) {
  patient(id: $id) {
    id name phone primaryDoctor { name }
    careTeam { name department { name } }
    records(first: 50) { id diagnosis author { name } }
    studies { id modality orderingDoctor { name } }
  }
}`;

interface Chart {
  id: string;
  records: Array<{ id: string }>;
  studies: Array<{ id: string }>;
}

describe.skipIf(inject('postgresRun') === null)('the API running as caregraph_app', () => {
  let database: AppRoleDatabase;
  let server: TestServer;
  let patient: SeededPatient;

  /** The audit rows of one response's request, read by the owner. */
  const auditOf = (response: GraphQLResponse) =>
    database.owner.db
      .select({
        action: auditEvents.action,
        resourceId: auditEvents.resourceId,
        cacheSource: auditEvents.cacheSource,
      })
      .from(auditEvents)
      .where(eq(auditEvents.requestId, response.headers.get('x-request-id') ?? ''));

  const ok = (response: GraphQLResponse, label: string): Record<string, unknown> => {
    expect(response.body.errors, label).toBeUndefined();
    expect(response.status, label).toBe(200);
    return response.body.data ?? {};
  };

  beforeAll(async () => {
    database = await createAppRoleDatabase();
    patient = await seededPatient(database.owner.db, 't1', 0);
    server = await startTestServer({}, undefined, {
      database: (onStatement) => createDatabase({ url: database.appUrl, poolMax: 4, onStatement }),
    });
  });
  afterAll(async () => {
    await server.close();
    await database.close();
  });

  it('connects as the app role, not as the owner', async () => {
    const [row] = await queryRows<{ user: string }>(
      server.database.db,
      sql`select current_user as user`,
    );
    expect(row?.user).toBe(APP_ROLE_NAME);
  });

  it('serves a chart, cold and warm, and commits one read row per PHI entity', async () => {
    const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    for (const source of ['db', 'l2']) {
      const response = await server.graphql(CHART, { token, variables: { id: patient.patientId } });
      const chart = ok(response, source).patient as Chart;
      expect(chart.records.length).toBeGreaterThan(0);
      const served = [
        chart.id,
        ...chart.records.map((r) => r.id),
        ...chart.studies.map((s) => s.id),
      ];
      const rows = await auditOf(response);
      expect(rows.map((r) => r.resourceId).sort()).toEqual(served.sort());
      expect(new Set(rows.map((r) => `${r.action}/${r.cacheSource}`))).toEqual(
        new Set([`read/${source}`]),
      );
    }
  });

  it('runs every mutation, the search, the reference lists, a purge and the audit trail', async () => {
    const [frontdesk, self, admin, auditor, clinician] = await Promise.all([
      server.token({ role: 'frontdesk' }),
      server.token({ role: 'patient', patientId: patient.patientId }),
      server.token({ role: 'admin' }),
      server.token({ role: 'auditor' }),
      server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId }),
    ]);
    const [study] = await database.owner.db
      .select({ id: studies.id })
      .from(studies)
      .where(and(eq(studies.tenantId, 't1'), eq(studies.patientId, patient.patientId)))
      .limit(1);
    const [department] = await database.owner.db.select().from(departments).limit(1);
    const ids = { p: patient.patientId, d: patient.otherDoctorId };
    const writes: Array<[string, string, Record<string, unknown>]> = [
      [
        frontdesk,
        `mutation ($p: ID!) { updatePatient(id: $p, input: { phone: "+1 555-0100" }) { phone } }`,
        ids,
      ],
      [
        frontdesk,
        `mutation ($p: ID!, $d: ID!) { addCareTeamMember(patientId: $p, doctorId: $d) { id } }`,
        ids,
      ],
      [
        frontdesk,
        `mutation ($p: ID!, $d: ID!) { removeCareTeamMember(patientId: $p, doctorId: $d) { id } }`,
        ids,
      ],
      [
        clinician,
        `mutation ($p: ID!) { addMedicalRecord(input: { patientId: $p, diagnosisCode: "I10", diagnosis: "Hypertension" }) { id } }`,
        ids,
      ],
      [
        clinician,
        `mutation ($s: ID!) { updateStudyReport(id: $s, reportStatus: FINAL, report: "Normal.") { id } }`,
        { s: study?.id },
      ],
      [
        admin,
        `mutation ($d: ID!, $dep: ID!) { updateDoctor(id: $d, input: { title: "MD", departmentId: $dep }) { id } }`,
        { ...ids, dep: department?.id },
      ],
      [self, `mutation ($p: ID!) { setConsent(patientId: $p, granted: true) { id } }`, ids],
    ];
    for (const [token, query, variables] of writes) {
      const response = await server.graphql(query, { token, variables });
      ok(response, query);
      expect(
        (await auditOf(response)).map((r) => r.action),
        query,
      ).toContain('write');
    }
    for (const search of ['an', 'M0000001']) {
      const found = ok(
        await server.graphql(`query ($s: String!) { patients(search: $s, first: 5) { id name } }`, {
          token: frontdesk,
          variables: { s: search },
        }),
        search,
      );
      expect((found.patients as unknown[]).length, search).toBeGreaterThan(0);
    }
    ok(await server.graphql(`{ departments { id } doctors { id } }`, { token: admin }), 'lists');
    const purge = await server.graphql(`mutation ($p: ID!) { purgeCache(patientId: $p) }`, {
      token: admin,
      variables: ids,
    });
    ok(purge, 'purge');
    expect((await auditOf(purge)).map((r) => r.action)).toEqual(['purge']);
    const trail = ok(
      await server.graphql(
        `query ($p: ID!) { auditEvents(patientId: $p, first: 100) { action } }`,
        {
          token: auditor,
          variables: ids,
        },
      ),
      'audit trail',
    ).auditEvents as Array<{ action: string }>;
    expect(trail.filter((e) => e.action === 'WRITE').length).toBeGreaterThanOrEqual(5);
  });

  it('starts with npm start on the app role URL, without migrating, and serves a chart', async () => {
    // main.ts migrates only the embedded database: as caregraph_app, a migration would fail.
    const spawned = await spawnServer({
      DATABASE_URL: database.appUrl,
      CACHE_KEY_PREFIX: `t${randomBytes(5).toString('hex')}`,
    });
    try {
      const ready = await fetch(`${spawned.origin}/readyz`);
      expect(ready.status).toBe(200);
      const token = await signToken(
        { sub: 'spawned', tenant: 't1', role: 'clinician', doctorId: patient.careTeamDoctorId },
        loadConfig({}).jwt,
        '5m',
      );
      const response = await fetch(`${spawned.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: CHART, variables: { id: patient.patientId } }),
      });
      const body = (await response.json()) as GraphQLResponse['body'];
      expect(body.errors).toBeUndefined();
      const rows = await database.owner.db
        .select({ id: auditEvents.id })
        .from(auditEvents)
        .where(eq(auditEvents.requestId, response.headers.get('x-request-id') ?? ''));
      expect(rows.length).toBeGreaterThan(1);
    } finally {
      await spawned.stop();
    }
  });
});
