import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { departments, doctors, medicalRecords, studies } from '../../src/db/tables/index.js';
import { seededPatient } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

describe('tenant isolation', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it("reads another tenant's ids as null, for every entity", async () => {
    const db = server.database.db;
    const t2 = await seededPatient(db, 't2');
    const [record] = await db
      .select()
      .from(medicalRecords)
      .where(eq(medicalRecords.patientId, t2.patientId))
      .limit(1);
    const [study] = await db
      .select()
      .from(studies)
      .where(eq(studies.patientId, t2.patientId))
      .limit(1);
    const [doctor] = await db.select().from(doctors).where(eq(doctors.tenantId, 't2')).limit(1);
    const [department] = await db
      .select()
      .from(departments)
      .where(eq(departments.tenantId, 't2'))
      .limit(1);

    const t1 = await seededPatient(db, 't1');
    const clinician = await server.token({
      role: 'clinician',
      tenant: 't1',
      doctorId: t1.careTeamDoctorId,
    });
    const response = await server.graphql(
      `query ($p: ID!, $r: ID!, $s: ID!, $d: ID!, $dep: ID!) {
        patient(id: $p) { name }
        medicalRecord(id: $r) { diagnosis }
        study(id: $s) { modality }
        doctor(id: $d) { name }
        department(id: $dep) { name }
        doctors(departmentId: $dep) { name }
      }`,
      {
        token: clinician,
        variables: {
          p: t2.patientId,
          r: record?.id,
          s: study?.id,
          d: doctor?.id,
          dep: department?.id,
        },
      },
    );
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data).toEqual({
      patient: null,
      medicalRecord: null,
      study: null,
      doctor: null,
      department: null,
      doctors: [],
    });
  });

  it("never lists another tenant's rows in searches or reference lists", async () => {
    const frontdesk = await server.token({ role: 'frontdesk', tenant: 't2' });
    const response = await server.graphql(
      `{ departments { id } doctors { id } patients(search: "M0000001") { id } }`,
      {
        token: frontdesk,
      },
    );
    const data = response.body.data as {
      departments: { id: string }[];
      doctors: { id: string }[];
      patients: { id: string }[];
    };
    // Both tenants have a patient with MRN M0000001; only t2's comes back.
    const t2 = await seededPatient(server.database.db, 't2');
    expect(data.patients).toEqual([{ id: t2.patientId }]);
    const t1Departments = await server.database.db
      .select({ id: departments.id })
      .from(departments)
      .where(eq(departments.tenantId, 't1'));
    const t1Ids = new Set(t1Departments.map((d) => d.id));
    expect(data.departments).toHaveLength(10);
    expect(data.doctors).toHaveLength(60);
    expect(data.departments.some((d) => t1Ids.has(d.id))).toBe(false);
  });

  it('refuses a mutation on an id of another tenant as not found', async () => {
    const t2 = await seededPatient(server.database.db, 't2');
    const frontdesk = await server.token({ role: 'frontdesk', tenant: 't1' });
    const response = await server.graphql(
      `mutation ($id: ID!) { updatePatient(id: $id, input: { phone: "+1 555-0100" }) { id } }`,
      { token: frontdesk, variables: { id: t2.patientId } },
    );
    expect(response.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
