import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { queryRows } from '../support/queryRows.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { refusalsOf } from './refusals.js';

describe('field refusals', () => {
  let server: TestServer;
  let patient: SeededPatient;
  let frontdesk: string;
  let lastName: string;

  beforeAll(async () => {
    server = await startTestServer();
    patient = await seededPatient(server.database.db, 't1', 9);
    frontdesk = await server.token({ role: 'frontdesk' });
    const [row] = await queryRows<{ name: string }>(
      server.database.db,
      sql`select name from patients where id = ${patient.patientId}`,
    );
    lastName = row?.name.split(' ').at(-1) ?? '';
  });
  afterAll(async () => {
    await server.close();
  });

  it("serves the front desk a patient without its care team, as the issue's query asks", async () => {
    const response = await server.graphql(
      'query ($p: ID!) { patient(id: $p) { name careTeam { name } } }',
      { token: frontdesk, variables: { p: patient.patientId } },
    );
    expect(refusalsOf(response)).toEqual({
      forbidden: ['patient.careTeam'],
      nulls: ['patient.careTeam'],
    });
    expect((response.body.data?.patient as { name: unknown }).name).toEqual(expect.any(String));
  });

  it('refuses the chart of every listed patient on its own, and keeps the list', async () => {
    const response = await server.graphql(
      'query ($q: String!) { patients(search: $q, first: 100) { id name careTeam { name } records { id } studies { id } primaryDoctor { name } } departments { id } }',
      { token: frontdesk, variables: { q: lastName } },
    );
    const listed = response.body.data?.patients as Array<Record<string, unknown>>;
    expect(listed.map((p) => p.id)).toContain(patient.patientId);
    const expected = listed.flatMap((_, i) =>
      ['careTeam', 'primaryDoctor', 'records', 'studies'].map((field) => `patients.${i}.${field}`),
    );
    expect(refusalsOf(response)).toEqual({ forbidden: expected.sort(), nulls: expected.sort() });
    for (const listedPatient of listed) expect(listedPatient.name).toEqual(expect.any(String));
  });

  it("keeps a mutation's patient when the front desk is refused fields of it", async () => {
    const update = await server.graphql(
      'mutation ($p: ID!) { updatePatient(id: $p, input: { phone: "+1 555-0142" }) { id phone careTeam { name } records { id } } }',
      { token: frontdesk, variables: { p: patient.patientId } },
    );
    expect(refusalsOf(update)).toEqual({
      forbidden: ['updatePatient.careTeam', 'updatePatient.records'],
      nulls: ['updatePatient.careTeam', 'updatePatient.records'],
    });
    expect(update.body.data?.updatePatient).toMatchObject({
      id: patient.patientId,
      phone: '+1 555-0142',
    });

    // Withholding consent on the patient's behalf, the front desk may no longer read their
    // demographics, but still learns the write took: the patient, its id and its consent.
    const mutation =
      'mutation ($p: ID!, $g: Boolean!) { setConsent(patientId: $p, granted: $g) { id consentGranted name mrn } }';
    const withheld = await server.graphql(mutation, {
      token: frontdesk,
      variables: { p: patient.patientId, g: false },
    });
    expect(refusalsOf(withheld)).toEqual({
      forbidden: ['setConsent.mrn', 'setConsent.name'],
      nulls: ['setConsent.mrn', 'setConsent.name'],
    });
    expect(withheld.body.data?.setConsent).toEqual({
      id: patient.patientId,
      consentGranted: false,
      name: null,
      mrn: null,
    });
    const granted = await server.graphql(mutation, {
      token: frontdesk,
      variables: { p: patient.patientId, g: true },
    });
    expect(refusalsOf(granted)).toEqual({ forbidden: [], nulls: [] });
  });

  it('refuses the audit trail beside reference data without losing it', async () => {
    const clinician = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    const response = await server.graphql('{ departments { id } auditEvents(first: 5) { id } }', {
      token: clinician,
    });
    expect(refusalsOf(response)).toEqual({ forbidden: ['auditEvents'], nulls: ['auditEvents'] });
    expect(response.body.data?.departments).toHaveLength(10);
  });

  it('refuses a search to a role that searches nothing, beside reference data', async () => {
    const admin = await server.token({ role: 'admin' });
    const response = await server.graphql(
      'query ($q: String!) { departments { id } patients(search: $q) { id } }',
      { token: admin, variables: { q: lastName } },
    );
    expect(refusalsOf(response)).toEqual({ forbidden: ['patients'], nulls: ['patients'] });
    expect(response.body.data?.departments).toHaveLength(10);
  });
});
