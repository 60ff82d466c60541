import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { departments, doctors, studies } from '../../src/db/tables/index.js';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { queryRows } from '../support/queryRows.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

describe('mutations', () => {
  let server: TestServer;
  let patient: SeededPatient;
  let clinician: string;

  beforeAll(async () => {
    server = await startTestServer();
    patient = await seededPatient(server.database.db, 't1', 3);
    clinician = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
  });
  afterAll(async () => {
    await server.close();
  });

  it('updatePatient persists and the next request sees it', async () => {
    const frontdesk = await server.token({ role: 'frontdesk' });
    const update = await server.graphql(
      `mutation ($id: ID!, $doctor: ID!) {
        updatePatient(id: $id, input: { name: "Renamed Patient", phone: "+1 555-0199", primaryDoctorId: $doctor }) { name phone }
      }`,
      { token: frontdesk, variables: { id: patient.patientId, doctor: patient.otherDoctorId } },
    );
    expect(update.body.errors).toBeUndefined();
    expect(update.body.data?.updatePatient).toEqual({
      name: 'Renamed Patient',
      phone: '+1 555-0199',
    });

    const read = await server.graphql(
      `query ($id: ID!) { patient(id: $id) { name phone primaryDoctor { id } } }`,
      {
        token: clinician,
        variables: { id: patient.patientId },
      },
    );
    expect(read.body.data?.patient).toEqual({
      name: 'Renamed Patient',
      phone: '+1 555-0199',
      primaryDoctor: { id: patient.otherDoctorId },
    });
  });

  it('updatePatient refuses a primary doctor of another tenant as BAD_USER_INPUT', async () => {
    const [t2Doctor] = await server.database.db
      .select()
      .from(doctors)
      .where(eq(doctors.tenantId, 't2'))
      .limit(1);
    const frontdesk = await server.token({ role: 'frontdesk' });
    const response = await server.graphql(
      `mutation ($id: ID!, $doctor: ID!) { updatePatient(id: $id, input: { primaryDoctorId: $doctor }) { id } }`,
      { token: frontdesk, variables: { id: patient.patientId, doctor: t2Doctor?.id } },
    );
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('addMedicalRecord persists a record authored by the clinician, first in the chart', async () => {
    const add = await server.graphql(
      `mutation ($p: ID!) {
        addMedicalRecord(input: { patientId: $p, diagnosisCode: "e11.9", diagnosis: "Type 2 diabetes", notes: "new" }) {
          id diagnosisCode author { id }
        }
      }`,
      { token: clinician, variables: { p: patient.patientId } },
    );
    expect(add.body.errors).toBeUndefined();
    const created = add.body.data?.addMedicalRecord as {
      id: string;
      diagnosisCode: string;
      author: { id: string };
    };
    expect(created.diagnosisCode).toBe('E11.9');
    expect(created.author.id).toBe(patient.careTeamDoctorId);

    const read = await server.graphql(
      `query ($id: ID!) { patient(id: $id) { records(first: 1) { id notes } } }`,
      {
        token: clinician,
        variables: { id: patient.patientId },
      },
    );
    expect(read.body.data?.patient).toEqual({ records: [{ id: created.id, notes: 'new' }] });
  });

  it('addMedicalRecord refuses a malformed diagnosis code', async () => {
    const response = await server.graphql(
      `mutation ($p: ID!) { addMedicalRecord(input: { patientId: $p, diagnosisCode: "not-icd", diagnosis: "x" }) { id } }`,
      { token: clinician, variables: { p: patient.patientId } },
    );
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('updateStudyReport persists', async () => {
    const [study] = await server.database.db
      .select()
      .from(studies)
      .where(and(eq(studies.tenantId, 't1'), eq(studies.patientId, patient.patientId)))
      .limit(1);
    const update = await server.graphql(
      `mutation ($id: ID!) { updateStudyReport(id: $id, reportStatus: FINAL, report: "No acute findings.") { reportStatus report } }`,
      { token: clinician, variables: { id: study?.id } },
    );
    expect(update.body.errors).toBeUndefined();
    const read = await server.graphql(
      `query ($id: ID!) { study(id: $id) { reportStatus report } }`,
      {
        token: clinician,
        variables: { id: study?.id },
      },
    );
    expect(read.body.data?.study).toEqual({ reportStatus: 'FINAL', report: 'No acute findings.' });
  });

  it('setConsent persists, by the patient themselves', async () => {
    const self = await server.token({ role: 'patient', patientId: patient.patientId });
    const update = await server.graphql(
      `mutation ($id: ID!) { setConsent(patientId: $id, granted: false) { consentGranted } }`,
      { token: self, variables: { id: patient.patientId } },
    );
    expect(update.body.data?.setConsent).toEqual({ consentGranted: false });
    const read = await server.graphql(`query ($id: ID!) { patient(id: $id) { consentGranted } }`, {
      token: self,
      variables: { id: patient.patientId },
    });
    expect(read.body.data?.patient).toEqual({ consentGranted: false });
  });

  it('updateDoctor persists reference data, by an admin', async () => {
    const [department] = await server.database.db
      .select()
      .from(departments)
      .where(eq(departments.tenantId, 't1'))
      .limit(1);
    const admin = await server.token({ role: 'admin' });
    const update = await server.graphql(
      `mutation ($id: ID!, $dep: ID!) { updateDoctor(id: $id, input: { title: "MD, FACC", departmentId: $dep }) { title department { id } } }`,
      { token: admin, variables: { id: patient.otherDoctorId, dep: department?.id } },
    );
    expect(update.body.errors).toBeUndefined();
    const read = await server.graphql(
      `query ($dep: ID!) { doctors(departmentId: $dep) { id title } }`,
      {
        token: admin,
        variables: { dep: department?.id },
      },
    );
    expect(read.body.data?.doctors).toContainEqual({
      id: patient.otherDoctorId,
      title: 'MD, FACC',
    });
  });

  it('answers NOT_FOUND for a missing entity', async () => {
    const admin = await server.token({ role: 'admin' });
    const response = await server.graphql(
      `mutation { updateDoctor(id: "00000000-0000-4000-8000-000000000000", input: { title: "X" }) { id } }`,
      { token: admin },
    );
    expect(response.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('refuses writes by roles that may not make them', async () => {
    const admin = await server.token({ role: 'admin' });
    const frontdesk = await server.token({ role: 'frontdesk' });
    const offTeam = await server.token({ role: 'clinician', doctorId: patient.otherDoctorId });
    const vars = { variables: { id: patient.patientId } };
    const attempts = await Promise.all([
      server.graphql(
        `mutation ($id: ID!) { updatePatient(id: $id, input: { name: "X" }) { id } }`,
        { token: admin, ...vars },
      ),
      server.graphql(
        `mutation ($id: ID!) { updatePatient(id: $id, input: { name: "X" }) { id } }`,
        { token: offTeam, ...vars },
      ),
      server.graphql(
        `mutation ($id: ID!) { addMedicalRecord(input: { patientId: $id, diagnosisCode: "I10", diagnosis: "x" }) { id } }`,
        { token: frontdesk, ...vars },
      ),
      server.graphql(
        `mutation { updateDoctor(id: "${patient.otherDoctorId}", input: { title: "X" }) { id } }`,
        {
          token: frontdesk,
        },
      ),
      server.graphql(`mutation { purgeCache }`, { token: frontdesk }),
    ]);
    for (const attempt of attempts) {
      expect(attempt.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(attempt.body.data).toBeNull();
    }
  });
});

describe('read permissions', () => {
  let server: TestServer;
  let patient: SeededPatient;
  const chart = `query ($id: ID!) { patient(id: $id) { name phone records { diagnosis } studies { modality } } }`;

  beforeAll(async () => {
    server = await startTestServer();
    patient = await seededPatient(server.database.db, 't1', 5);
  });
  afterAll(async () => {
    await server.close();
  });

  it('lets a clinician on the care team read the chart', async () => {
    const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    const response = await server.graphql(chart, { token, variables: { id: patient.patientId } });
    expect(response.body.errors).toBeUndefined();
  });

  it('refuses a clinician off the care team with FORBIDDEN on the field', async () => {
    const token = await server.token({ role: 'clinician', doctorId: patient.otherDoctorId });
    const response = await server.graphql(
      `query ($id: ID!) { patient(id: $id) { name } departments { name } }`,
      {
        token,
        variables: { id: patient.patientId },
      },
    );
    expect(response.body.errors?.map((e) => [e.extensions?.code, e.path])).toEqual([
      ['FORBIDDEN', ['patient']],
    ]);
    // The rest of the response is unaffected.
    expect(response.body.data?.departments).toHaveLength(10);
  });

  it('lets the front desk read demographics but never records', async () => {
    const token = await server.token({ role: 'frontdesk' });
    const response = await server.graphql(chart, { token, variables: { id: patient.patientId } });
    const codes = new Set(response.body.errors?.map((e) => e.extensions?.code));
    expect(codes).toEqual(new Set(['FORBIDDEN']));
    expect(response.body.errors?.map((e) => e.path?.at(-1))).toContain('records');
    // records is nullable, so its denial nulls records alone: the patient is still served.
    expect(response.body.data?.patient).toMatchObject({ records: null, studies: null });
    expect((response.body.data?.patient as { name: unknown }).name).toEqual(expect.any(String));
    const demographics = await server.graphql(
      `query ($id: ID!) { patient(id: $id) { id mrn name birthDate sex phone } }`,
      {
        token,
        variables: { id: patient.patientId },
      },
    );
    expect(demographics.body.errors).toBeUndefined();
  });

  it('lets a patient read only themselves', async () => {
    const self = await server.token({ role: 'patient', patientId: patient.patientId });
    const own = await server.graphql(chart, { token: self, variables: { id: patient.patientId } });
    expect(own.body.errors).toBeUndefined();
    const other = await seededPatient(server.database.db, 't1', 6);
    const theirs = await server.graphql(chart, { token: self, variables: { id: other.patientId } });
    expect(theirs.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('gives admins and auditors reference data but no PHI', async () => {
    for (const role of ['admin', 'auditor'] as const) {
      const token = await server.token({ role });
      const response = await server.graphql(
        `query ($id: ID!) { patient(id: $id) { name } doctors { name } }`,
        {
          token,
          variables: { id: patient.patientId },
        },
      );
      expect(response.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(response.body.data?.patient).toBeNull();
      expect((response.body.data?.doctors as unknown[]).length).toBe(60);
    }
  });

  it('lets only auditors read the audit trail', async () => {
    const auditor = await server.token({ role: 'auditor' });
    const allowed = await server.graphql(`{ auditEvents(first: 5) { id } }`, { token: auditor });
    expect(allowed.body.errors).toBeUndefined();
    const admin = await server.token({ role: 'admin' });
    const denied = await server.graphql(`{ auditEvents(first: 5) { id } }`, { token: admin });
    expect(denied.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it("limits a clinician's search to their care team's patients", async () => {
    const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    const [row] = await queryRows<{ name: string }>(
      server.database.db,
      sql`select name from patients where id = ${patient.patientId}`,
    );
    const lastName = row?.name.split(' ').at(-1) ?? '';
    const byName = await server.graphql(
      `query ($q: String!) { patients(search: $q, first: 100) { id } }`,
      {
        token,
        variables: { q: lastName.toUpperCase() },
      },
    );
    expect(byName.body.data?.patients).toContainEqual({ id: patient.patientId });
    const frontdesk = await server.token({ role: 'frontdesk' });
    const all = await server.graphql(`{ patients(search: "a", first: 100) { id } }`, {
      token: frontdesk,
    });
    expect(all.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const mrn = await server.graphql(`query ($m: String!) { patients(search: $m) { id } }`, {
      token,
      variables: { m: 'm0000006' },
    });
    expect(mrn.body.data?.patients).toEqual([{ id: patient.patientId }]);
    const offTeam = await server.token({ role: 'clinician', doctorId: patient.otherDoctorId });
    const hidden = await server.graphql(`query ($m: String!) { patients(search: $m) { id } }`, {
      token: offTeam,
      variables: { m: 'M0000006' },
    });
    expect(hidden.body.data?.patients).toEqual([]);
  });

  it('matches an MRN exactly, ignoring case and surrounding spaces: a part of one finds nothing', async () => {
    const frontdesk = await server.token({ role: 'frontdesk' });
    const search = async (m: string) =>
      (
        await server.graphql(`query ($m: String!) { patients(search: $m, first: 100) { id } }`, {
          token: frontdesk,
          variables: { m },
        })
      ).body.data?.patients;
    expect(await search(' m0000006 ')).toEqual([{ id: patient.patientId }]);
    expect(await search('M000000')).toEqual([]);
    expect(await search('0000006')).toEqual([]);
  });
});
