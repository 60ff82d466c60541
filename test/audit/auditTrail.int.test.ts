import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChartPatient, seededPatient } from '../support/fixtures.js';
import { queryRows } from '../support/queryRows.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

interface AuditRow {
  action: string;
  resource_type: string;
  resource_id: string | null;
  patient_id: string | null;
  cache_source: string | null;
  outcome: string;
  operation_name: string | null;
  client_address: string | null;
  break_glass_reason: string | null;
  actor_role: string;
}

const PHI_TYPES = new Set(['Patient', 'MedicalRecord', 'Study']);

/** Every distinct PHI entity a response contains, as Type:id (queries ask for __typename and id). */
function phiEntities(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) phiEntities(item, found);
  else if (typeof value === 'object' && value !== null) {
    const { __typename: type, id } = value as { __typename?: string; id?: string };
    if (type !== undefined && id !== undefined && PHI_TYPES.has(type)) found.add(`${type}:${id}`);
    for (const child of Object.values(value)) phiEntities(child, found);
  }
  return found;
}

describe('the audit trail', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  const eventsOf = (requestId: string) =>
    queryRows<AuditRow>(
      server.database.db,
      sql`select * from audit_events where request_id = ${requestId} order by id`,
    );

  async function run(
    query: string,
    token: string,
    variables: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    const requestId = randomUUID();
    const response = await server.graphql(query, {
      token,
      variables,
      headers: { 'x-request-id': requestId, ...headers },
    });
    return { requestId, response, events: await eventsOf(requestId) };
  }

  it('records one event per PHI entity returned, with the layer that served it, over a mixed workload', async () => {
    const chart = await createChartPatient(server.database.db, {
      recordCount: 12,
      studyCount: 3,
      mrn: 'ZAUDIT1',
    });
    const patient = await seededPatient(server.database.db, 't1', 9);
    const clinician = await server.token({ role: 'clinician', doctorId: chart.careTeamDoctorId });
    const self = await server.token({ role: 'patient', patientId: patient.patientId });
    const frontdesk = await server.token({ role: 'frontdesk' });
    const CHART = `query Chart($id: ID!) { patient(id: $id) { __typename id name
      records(first: 100) { __typename id diagnosis patient { __typename id } }
      studies { __typename id modality } } }`;
    const workload: Array<[string, string, Record<string, unknown>, string]> = [
      [CHART, clinician, { id: chart.patientId }, 'db'],
      [CHART, clinician, { id: chart.patientId }, 'l2'],
      [CHART, self, { id: patient.patientId }, 'db'],
      [CHART, self, { id: patient.patientId }, 'l2'],
      ['query Search { patients(search: "ZAUDIT1") { __typename id mrn } }', frontdesk, {}, 'db'],
    ];
    let entities = 0;
    let events = 0;
    for (const [query, token, variables, source] of workload) {
      const { response, events: rows } = await run(query, token, variables);
      expect(response.body.errors).toBeUndefined();
      const returned = phiEntities(response.body.data);
      const reads = rows.filter((row) => row.action === 'read');
      expect(new Set(reads.map((row) => `${row.resource_type}:${row.resource_id ?? ''}`))).toEqual(
        returned,
      );
      expect(reads).toHaveLength(returned.size);
      expect(new Set(reads.map((row) => row.cache_source))).toEqual(new Set([source]));
      entities += returned.size;
      events += reads.length;
    }
    // 16 entities for each chart read (1 patient, 12 records, 3 studies), plus the search.
    expect(entities).toBe(events);
    expect(entities).toBeGreaterThan(40);
  });

  it('records who, what, when and how, with ids and never names', async () => {
    const patient = await seededPatient(server.database.db, 't1', 10);
    const clinician = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    const { events } = await run(
      'query Demographics($id: ID!) { patient(id: $id) { id name } }',
      clinician,
      { id: patient.patientId },
    );
    expect(events).toEqual([
      expect.objectContaining({
        action: 'read',
        resource_type: 'Patient',
        resource_id: patient.patientId,
        patient_id: patient.patientId,
        outcome: 'allowed',
        operation_name: 'Demographics',
        actor_role: 'clinician',
        break_glass_reason: null,
      }),
    ]);
    expect(events[0]?.client_address).toMatch(/127\.0\.0\.1/);
    const [row] = await queryRows<{ name: string }>(
      server.database.db,
      sql`select name from patients where id = ${patient.patientId}`,
    );
    expect(JSON.stringify(events)).not.toContain(row?.name ?? 'x');
  });

  it('records denials, break-glass with its reason, writes and purges', async () => {
    const patient = await seededPatient(server.database.db, 't1', 11);
    const offTeam = await server.token({ role: 'clinician', doctorId: patient.otherDoctorId });
    const denied = await run('query ($id: ID!) { patient(id: $id) { name } }', offTeam, {
      id: patient.patientId,
    });
    expect(denied.events).toEqual([
      expect.objectContaining({
        action: 'deny',
        outcome: 'denied',
        resource_type: 'Patient',
        resource_id: patient.patientId,
      }),
    ]);
    const reason = 'Cardiac arrest, patient unresponsive';
    const emergency = await run(
      'query ($id: ID!) { patient(id: $id) { name } }',
      offTeam,
      { id: patient.patientId },
      { 'x-break-glass': reason },
    );
    expect(emergency.events).toEqual([
      expect.objectContaining({
        action: 'break_glass',
        patient_id: patient.patientId,
        break_glass_reason: reason,
      }),
      expect.objectContaining({
        action: 'read',
        patient_id: patient.patientId,
        break_glass_reason: reason,
      }),
    ]);
    // Reading one's own patients in the same request is routine access, not an emergency.
    const own = await seededPatient(server.database.db, 't1', 13);
    const ownClinician = await server.token({ role: 'clinician', doctorId: own.careTeamDoctorId });
    const mixed = await run(
      'query ($a: ID!) { patient(id: $a) { name } }',
      ownClinician,
      { a: own.patientId },
      { 'x-break-glass': reason },
    );
    expect(mixed.events).toEqual([
      expect.objectContaining({ action: 'read', break_glass_reason: null }),
    ]);

    const frontdesk = await server.token({ role: 'frontdesk' });
    const write = await run(
      'mutation Phone($id: ID!) { updatePatient(id: $id, input: { phone: "+1 555-0142" }) { id } }',
      frontdesk,
      {
        id: patient.patientId,
      },
    );
    expect(write.events.map((e) => [e.action, e.resource_type, e.operation_name])).toContainEqual([
      'write',
      'Patient',
      'Phone',
    ]);
    const admin = await server.token({ role: 'admin' });
    const purge = await run('mutation ($id: ID!) { purgeCache(patientId: $id) }', admin, {
      id: patient.patientId,
    });
    expect(purge.events).toEqual([
      expect.objectContaining({ action: 'purge', patient_id: patient.patientId }),
    ]);
  });

  it('keeps a denial when the same request names an id that is not a uuid, and stores no client text', async () => {
    const patient = await seededPatient(server.database.db, 't1', 14);
    const offTeam = await server.token({ role: 'clinician', doctorId: patient.otherDoctorId });
    const frontdesk = await server.token({ role: 'frontdesk' });
    const probe = await run(
      'query ($id: ID!) { a: patient(id: $id) { name } b: patient(id: "Jane Doe") { name } }',
      offTeam,
      {
        id: patient.patientId,
      },
    );
    expect(probe.response.status).toBe(200);
    expect(probe.events).toEqual([
      expect.objectContaining({ action: 'deny', resource_id: patient.patientId }),
    ]);
    const text = await run('{ medicalRecord(id: "Jane Doe HIV positive") { notes } }', frontdesk);
    expect(text.events).toEqual([
      expect.objectContaining({ action: 'deny', resource_id: null, patient_id: null }),
    ]);
    expect(JSON.stringify(text.events)).not.toContain('Jane');
  });

  it('names the database as the source of what a mutation returns, even when it was hot', async () => {
    const patient = await seededPatient(server.database.db, 't1', 15);
    const [study] = await queryRows<{ id: string }>(
      server.database.db,
      sql`select id from studies where patient_id = ${patient.patientId} limit 1`,
    );
    const clinician = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    const read = 'query ($id: ID!) { study(id: $id) { id reportStatus } }';
    // The first read learns the study's patient; the second caches it; the third is hot.
    await run(read, clinician, { id: study?.id });
    await run(read, clinician, { id: study?.id });
    const hot = await run(read, clinician, { id: study?.id });
    expect(hot.events).toEqual([expect.objectContaining({ action: 'read', cache_source: 'l2' })]);
    const update = await run(
      'mutation ($id: ID!) { updateStudyReport(id: $id, reportStatus: FINAL) { id reportStatus } }',
      clinician,
      {
        id: study?.id,
      },
    );
    expect(update.events.filter((e) => e.action === 'read')).toEqual([
      expect.objectContaining({ resource_type: 'Study', cache_source: 'db' }),
    ]);
  });

  it('serves auditors the trail of a patient, newest first', async () => {
    const patient = await seededPatient(server.database.db, 't1', 12);
    const clinician = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    const offTeam = await server.token({ role: 'clinician', doctorId: patient.otherDoctorId });
    const admin = await server.token({ role: 'admin' });
    await run('query ($id: ID!) { patient(id: $id) { name } }', clinician, {
      id: patient.patientId,
    });
    await run('query ($id: ID!) { patient(id: $id) { name } }', offTeam, { id: patient.patientId });
    await run('mutation ($id: ID!) { purgeCache(patientId: $id) }', admin, {
      id: patient.patientId,
    });
    const auditor = await server.token({ role: 'auditor' });
    const response = await server.graphql(
      'query ($p: ID!) { auditEvents(patientId: $p, first: 10) { action patientId actorRole occurredAt } }',
      { token: auditor, variables: { p: patient.patientId } },
    );
    const events = response.body.data?.auditEvents as Array<{
      action: string;
      patientId: string;
      occurredAt: string;
    }>;
    expect(events.map((e) => e.action)).toEqual(['PURGE', 'DENY', 'READ']);
    expect(new Set(events.map((e) => e.patientId))).toEqual(new Set([patient.patientId]));
    const times = events.map((e) => Date.parse(e.occurredAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const admin2 = await server.graphql('{ auditEvents(first: 1) { id } }', { token: admin });
    expect(admin2.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses to change or remove an audit row, in the database itself', async () => {
    const db = server.database.db;
    await expect(
      db.execute(sql`update audit_events set actor_id = 'someone else'`),
    ).rejects.toThrow();
    await expect(db.execute(sql`delete from audit_events`)).rejects.toThrow();
    await expect(db.execute(sql`truncate audit_events`)).rejects.toThrow();
    const [count] = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from audit_events`,
    );
    expect(count?.n).toBeGreaterThan(0);
  });
});

describe('the audit trail when it cannot be written', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('withholds the PHI and answers AUDIT_UNAVAILABLE', async () => {
    const patient = await seededPatient(server.database.db, 't1', 3);
    const clinician = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    const query = 'query ($id: ID!) { patient(id: $id) { name records { diagnosis } } }';
    await server.database.db.execute(sql`alter table audit_events rename to audit_events_away`);
    try {
      const response = await server.graphql(query, {
        token: clinician,
        variables: { id: patient.patientId },
      });
      expect(response.status).toBe(503);
      expect(response.body.data).toBeUndefined();
      expect(response.body.errors?.map((e) => e.extensions?.code)).toEqual(['AUDIT_UNAVAILABLE']);
      expect(response.headers.get('cache-control')).toContain('no-store');
    } finally {
      await server.database.db.execute(sql`alter table audit_events_away rename to audit_events`);
    }
    const restored = await server.graphql(query, {
      token: clinician,
      variables: { id: patient.patientId },
    });
    expect(restored.status).toBe(200);
  });
});

describe('writes when their audit row cannot be written', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  async function withoutAuditTable<T>(run: () => Promise<T>): Promise<T> {
    await server.database.db.execute(sql`alter table audit_events rename to audit_events_away`);
    try {
      return await run();
    } finally {
      await server.database.db.execute(sql`alter table audit_events_away rename to audit_events`);
    }
  }

  it('answers a mutation 503 AUDIT_UNAVAILABLE, and leaves the row as it was', async () => {
    const patient = await seededPatient(server.database.db, 't1', 5);
    const frontdesk = await server.token({ role: 'frontdesk' });
    const [before] = await queryRows<{ phone: string | null }>(
      server.database.db,
      sql`select phone from patients where id = ${patient.patientId}`,
    );
    const response = await withoutAuditTable(() =>
      server.graphql(
        'mutation ($id: ID!) { updatePatient(id: $id, input: { phone: "+1 555-0199" }) { id phone } }',
        { token: frontdesk, variables: { id: patient.patientId } },
      ),
    );
    expect(response.status).toBe(503);
    expect(response.body.errors?.map((e) => e.extensions?.code)).toEqual(['AUDIT_UNAVAILABLE']);
    const [after] = await queryRows<{ phone: string | null }>(
      server.database.db,
      sql`select phone from patients where id = ${patient.patientId}`,
    );
    expect(after?.phone).toBe(before?.phone);
  });

  it('does not purge when the purge cannot be audited', async () => {
    const admin = await server.token({ role: 'admin' });
    const doctor = await server.graphql('{ doctors { id } }', { token: admin });
    const id = (doctor.body.data?.doctors as Array<{ id: string }>)[0]?.id as string;
    const read = () =>
      server.graphql('query ($id: ID!) { doctor(id: $id) { name } }', {
        token: admin,
        variables: { id },
      });
    await read();
    await read();
    const purge = await withoutAuditTable(() =>
      server.graphql('mutation { purgeCache(type: Doctor) }', { token: admin }),
    );
    expect(purge.status).toBe(503);
    expect(purge.body.errors?.map((e) => e.extensions?.code)).toEqual(['AUDIT_UNAVAILABLE']);
    // The reference data is still served from L2: the purge did not take effect.
    const statements = server.statements();
    expect((await read()).body.data?.doctor).toBeTruthy();
    expect(server.statements()).toBe(statements);
  });
});
