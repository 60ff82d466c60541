import { and, eq, ne, notInArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCacheKey } from '../../src/cache/cacheKey.js';
import { careTeam, doctors, medicalRecords, studies } from '../../src/db/tables/index.js';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import {
  ACCESS_MATRIX,
  RESOURCES,
  ROLES_UNDER_TEST,
  refusedPath,
  type Outcome,
  type Resource,
  type RoleUnderTest,
} from './accessMatrix.js';
import { outcomeOf, refusalsOf, type Refusals } from './refusals.js';

const PHI = RESOURCES.filter((r) => r !== 'reference data' && r !== 'audit trail');

const QUERIES: Record<Resource, string> = {
  demographics: 'query ($p: ID!) { patient(id: $p) { id name birthDate } }',
  records: 'query ($p: ID!) { patient(id: $p) { records(first: 5) { diagnosisCode } } }',
  'care team': 'query ($p: ID!) { patient(id: $p) { careTeam { name } } }',
  'record notes': 'query ($r: ID!) { medicalRecord(id: $r) { notes } }',
  studies: 'query ($s: ID!) { study(id: $s) { modality reportStatus } }',
  'reference data': '{ doctors { name } departments { name } }',
  'audit trail': '{ auditEvents(first: 5) { id action } }',
};

/**
 * Each resource's query again, with fields the role may read beside it at every level: at
 * the root, in the entity, and below it (a record's patient and author, a study's ordering
 * doctor). Nothing in them is null in the seed, so any null is a refusal or an absent id.
 */
const PROBES: Record<Resource, string> = {
  demographics: 'query ($p: ID!) { patient(id: $p) { id name birthDate } departments { id } }',
  records:
    'query ($p: ID!) { patient(id: $p) { id name records(first: 5) { id diagnosisCode author { name } patient { id name } } } departments { id } }',
  'care team':
    'query ($p: ID!) { patient(id: $p) { id name careTeam { id name department { name } } } departments { id } }',
  'record notes':
    'query ($r: ID!) { medicalRecord(id: $r) { id notes patient { id name } } departments { id } }',
  studies:
    'query ($s: ID!) { study(id: $s) { id modality reportStatus orderingDoctor { name } patient { id name } } departments { id } }',
  'reference data': '{ doctors { name department { name } } departments { name } }',
  'audit trail': '{ auditEvents(first: 5) { id action } departments { id } }',
};

/**
 * What a probe must answer: an allowed cell has no error and no null; a refused one has
 * FORBIDDEN on exactly one path, which alone reads null, its parent and siblings served; an
 * absent id reads null at its query field, with no error.
 */
function expectedRefusals(role: RoleUnderTest, resource: Resource): Refusals {
  const path = refusedPath(role, resource);
  switch (ACCESS_MATRIX[role][resource]) {
    case 'allow':
      return { forbidden: [], nulls: [] };
    case 'deny':
      return { forbidden: [path], nulls: [path] };
    case 'null':
      return { forbidden: [], nulls: [path] };
  }
}

describe('the access matrix', () => {
  let server: TestServer;
  let patient: SeededPatient;
  let ids: { p: string; r: string; s: string };
  const tokens = new Map<RoleUnderTest, { token: string; headers?: Record<string, string> }>();

  beforeAll(async () => {
    server = await startTestServer();
    const db = server.database.db;
    patient = await seededPatient(db, 't1', 7);
    const other = await seededPatient(db, 't1', 8);
    const [record] = await db
      .select()
      .from(medicalRecords)
      .where(eq(medicalRecords.patientId, patient.patientId))
      .limit(1);
    const [study] = await db
      .select()
      .from(studies)
      .where(eq(studies.patientId, patient.patientId))
      .limit(1);
    const [t2Doctor] = await db.select().from(doctors).where(eq(doctors.tenantId, 't2')).limit(1);
    if (record === undefined || study === undefined || t2Doctor === undefined)
      throw new Error('seed');
    ids = { p: patient.patientId, r: record.id, s: study.id };
    const reason = { 'x-break-glass': 'Unconscious in the emergency department, no next of kin' };
    const entries: Array<[RoleUnderTest, Promise<string>, Record<string, string>?]> = [
      [
        'clinician on the care team',
        server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId }),
      ],
      [
        'clinician off the care team',
        server.token({ role: 'clinician', doctorId: patient.otherDoctorId }),
      ],
      [
        'clinician with break-glass',
        server.token({ role: 'clinician', doctorId: patient.otherDoctorId }),
        reason,
      ],
      ['the patient', server.token({ role: 'patient', patientId: patient.patientId })],
      ['another patient', server.token({ role: 'patient', patientId: other.patientId })],
      ['front desk', server.token({ role: 'frontdesk' })],
      ['auditor', server.token({ role: 'auditor' })],
      ['admin', server.token({ role: 'admin' })],
      [
        "another tenant's clinician",
        server.token({ role: 'clinician', tenant: 't2', doctorId: t2Doctor.id }),
      ],
    ];
    for (const [role, token, headers] of entries)
      tokens.set(role, { token: await token, ...(headers ? { headers } : {}) });
  });
  afterAll(async () => {
    await server.close();
  });

  async function ask(role: RoleUnderTest, resource: Resource, queries = QUERIES) {
    const caller = tokens.get(role);
    if (caller === undefined) throw new Error(role);
    return server.graphql(queries[resource], {
      token: caller.token,
      variables: ids,
      headers: caller.headers,
    });
  }

  async function purge() {
    const admin = await server.token({ role: 'admin' });
    await server.graphql('mutation ($p: ID!) { purgeCache(patientId: $p) }', {
      token: admin,
      variables: { p: ids.p },
    });
  }

  /**
   * An authorized user reads everything, so that it is all hot in L2: written just now, from a
   * purge. Entries left from an earlier cell would not do: a Study lives 30 s, and one that
   * expired between the two passes would be read again from Postgres.
   */
  async function warm() {
    await purge();
    for (const resource of PHI) await ask('clinician on the care team', resource);
    const before = server.statements();
    for (const resource of PHI) await ask('clinician on the care team', resource);
    expect(server.statements() - before).toBe(0);
  }

  for (const temperature of ['cold', 'hot'] as const) {
    it(`answers every role and resource as the table says, ${temperature}`, async () => {
      const actual: Record<string, Record<string, Outcome | 'unexpected'>> = {};
      for (const role of ROLES_UNDER_TEST) {
        actual[role] = {};
        // Reads change nothing in L2 but what they write: warm once, a role's asks stay hot.
        if (temperature === 'hot') await warm();
        for (const resource of RESOURCES) {
          if (temperature === 'cold') await purge();
          actual[role][resource] = outcomeOf(await ask(role, resource));
        }
      }
      expect(actual).toEqual(ACCESS_MATRIX);
    });

    it(`nulls each refused field alone and serves its siblings, ${temperature}`, async () => {
      const actual: Record<string, Record<string, Refusals>> = {};
      const expected: Record<string, Record<string, Refusals>> = {};
      for (const role of ROLES_UNDER_TEST) {
        actual[role] = {};
        expected[role] = {};
        if (temperature === 'hot') await warm();
        for (const resource of RESOURCES) {
          if (temperature === 'cold') await purge();
          actual[role][resource] = refusalsOf(await ask(role, resource, PROBES));
          expected[role][resource] = expectedRefusals(role, resource);
        }
      }
      expect(actual).toEqual(expected);
    });
  }

  it('flips at once when the patient withholds consent, and back', async () => {
    const self = tokens.get('the patient')?.token ?? '';
    const setConsent = (granted: boolean) =>
      server.graphql(
        'mutation ($p: ID!, $g: Boolean!) { setConsent(patientId: $p, granted: $g) { consentGranted } }',
        {
          token: self,
          variables: { p: ids.p, g: granted },
        },
      );
    await warm();
    await setConsent(false);
    expect(outcomeOf(await ask('clinician on the care team', 'demographics'))).toBe('deny');
    expect(outcomeOf(await ask('clinician on the care team', 'record notes'))).toBe('deny');
    expect(outcomeOf(await ask('front desk', 'demographics'))).toBe('deny');
    expect(outcomeOf(await ask('the patient', 'records'))).toBe('allow');
    expect(outcomeOf(await ask('clinician with break-glass', 'studies'))).toBe('allow');
    const frontdesk = tokens.get('front desk')?.token ?? '';
    const consent = await server.graphql(
      'query ($p: ID!) { patient(id: $p) { id consentGranted } }',
      {
        token: frontdesk,
        variables: ids,
      },
    );
    expect(consent.body.data?.patient).toEqual({ id: ids.p, consentGranted: false });
    // The front desk is served the patient, and refused each demographic field on its own.
    const withheld = await ask('front desk', 'demographics', PROBES);
    expect(refusalsOf(withheld)).toEqual({
      forbidden: ['patient.birthDate', 'patient.name'],
      nulls: ['patient.birthDate', 'patient.name'],
    });
    expect(withheld.body.data?.patient).toEqual({ id: ids.p, name: null, birthDate: null });
    await setConsent(true);
    expect(outcomeOf(await ask('clinician on the care team', 'demographics'))).toBe('allow');
  });

  it('flips at once when the care team changes, even with the data hot', async () => {
    const frontdesk = tokens.get('front desk')?.token ?? '';
    const change = (mutation: string, doctorId: string) =>
      server.graphql(
        `mutation ($p: ID!, $d: ID!) { ${mutation}(patientId: $p, doctorId: $d) { id } }`,
        {
          token: frontdesk,
          variables: { p: ids.p, d: doctorId },
        },
      );
    await warm();
    await change('removeCareTeamMember', patient.careTeamDoctorId);
    expect(outcomeOf(await ask('clinician on the care team', 'records'))).toBe('deny');
    await change('addCareTeamMember', patient.otherDoctorId);
    expect(outcomeOf(await ask('clinician off the care team', 'records'))).toBe('allow');
    await change('removeCareTeamMember', patient.otherDoctorId);
    await change('addCareTeamMember', patient.careTeamDoctorId);
    expect(outcomeOf(await ask('clinician on the care team', 'records'))).toBe('allow');
    expect(outcomeOf(await ask('clinician off the care team', 'records'))).toBe('deny');
  });

  it('never serves a break-glass grant to anyone else, or again without the header', async () => {
    expect(outcomeOf(await ask('clinician with break-glass', 'records'))).toBe('allow');
    expect(outcomeOf(await ask('clinician off the care team', 'records'))).toBe('deny');
    const db = server.database.db;
    const team = await db
      .select({ id: careTeam.doctorId })
      .from(careTeam)
      .where(eq(careTeam.patientId, ids.p));
    const [third] = await db
      .select({ id: doctors.id })
      .from(doctors)
      .where(
        and(
          eq(doctors.tenantId, 't1'),
          ne(doctors.id, patient.otherDoctorId),
          notInArray(
            doctors.id,
            team.map((t) => t.id),
          ),
        ),
      )
      .limit(1);
    const token = await server.token({ role: 'clinician', doctorId: third?.id ?? '' });
    expect(outcomeOf(await server.graphql(QUERIES.records, { token, variables: ids }))).toBe(
      'deny',
    );
  });

  it('refuses break-glass without a real reason, or from another role', async () => {
    const clinician = tokens.get('clinician off the care team')?.token ?? '';
    for (const reason of ['', '   ', 'x', 'asdf']) {
      const response = await server.graphql(QUERIES.records, {
        token: clinician,
        variables: ids,
        headers: { 'x-break-glass': reason },
      });
      expect(response.status).toBe(400);
      expect(response.body.errors?.[0]?.extensions?.code).toBe('BREAK_GLASS_REASON_REQUIRED');
    }
    const frontdesk = tokens.get('front desk')?.token ?? '';
    const response = await server.graphql(QUERIES.records, {
      token: frontdesk,
      variables: ids,
      headers: { 'x-break-glass': 'Front desk would like to see the chart' },
    });
    expect(response.status).toBe(403);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('patients(search)', () => {
  it('returns only the patients the caller may read, dropping one who withheld consent', async () => {
    const server = await startTestServer();
    try {
      const patient = await seededPatient(server.database.db, 't1', 5);
      const [row] = await server.database.db
        .select()
        .from(medicalRecords)
        .where(eq(medicalRecords.patientId, patient.patientId))
        .limit(1);
      expect(row).toBeDefined();
      const self = await server.token({ role: 'patient', patientId: patient.patientId });
      const clinician = await server.token({
        role: 'clinician',
        doctorId: patient.careTeamDoctorId,
      });
      const frontdesk = await server.token({ role: 'frontdesk' });
      const search = async (token: string) => {
        const response = await server.graphql('{ patients(search: "M0000006") { id name } }', {
          token,
        });
        expect(response.body.errors).toBeUndefined();
        return (response.body.data?.patients as Array<{ id: string }>).map((p) => p.id);
      };
      expect(await search(clinician)).toEqual([patient.patientId]);
      expect(await search(frontdesk)).toEqual([patient.patientId]);
      await server.graphql(
        'mutation ($p: ID!) { setConsent(patientId: $p, granted: false) { id } }',
        {
          token: self,
          variables: { p: patient.patientId },
        },
      );
      expect(await search(clinician)).toEqual([]);
      expect(await search(frontdesk)).toEqual([]);
      expect(await search(self)).toEqual([patient.patientId]);
    } finally {
      await server.close();
    }
  });
});

describe('field rules on cached rows', () => {
  it('decide each record by the patient its row names, even when the row came from L2', async () => {
    const server = await startTestServer();
    try {
      const a = await seededPatient(server.database.db, 't1', 15);
      const b = await seededPatient(server.database.db, 't1', 16);
      const token = await server.token({ role: 'clinician', doctorId: a.careTeamDoctorId });
      const chart = 'query ($p: ID!) { patient(id: $p) { records(first: 100) { id notes } } }';
      await server.graphql(chart, { token, variables: { p: a.patientId } });
      const [record] = await server.database.db
        .select()
        .from(medicalRecords)
        .where(eq(medicalRecords.patientId, a.patientId))
        .limit(1);
      if (record === undefined) throw new Error('seed');
      // An entry in L2 that names another patient, valid under A's generation.
      const cache = server.l2.forRequest('t1');
      const key = buildCacheKey(server.l2.space, {
        kind: 'entity',
        tenantId: 't1',
        type: 'MedicalRecord',
        id: record.id,
        patientId: a.patientId,
      });
      const scope = { kind: 'patient', patientId: a.patientId } as const;
      await cache.read([{ key, scope }]);
      await cache.write([
        {
          key,
          scope,
          value: { ...record, patientId: b.patientId },
          policy: { cacheClass: 'phi', maxAgeSeconds: 60 },
        },
      ]);

      const response = await server.graphql(chart, { token, variables: { p: a.patientId } });
      const forbidden =
        response.body.errors?.filter((e) => e.extensions?.code === 'FORBIDDEN') ?? [];
      // Every field of that one record is refused (its non-null id takes the chart with it, as
      // GraphQL nulls upwards), and nothing else is.
      expect(new Set(forbidden.map((e) => e.path?.at(-1)))).toEqual(new Set(['id', 'notes']));
      expect(new Set(forbidden.map((e) => e.path?.slice(0, 3).join('.'))).size).toBe(1);
      expect(response.body.errors?.every((e) => e.extensions?.code === 'FORBIDDEN')).toBe(true);
    } finally {
      await server.close();
    }
  });
});
