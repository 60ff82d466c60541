import { createClient } from '@keyv/redis';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCacheKey } from '../../src/cache/cacheKey.js';
import type { GuardedStore } from '../../src/cache/guardedStore.js';
import { ENVELOPE_VERSION } from '../../src/cache/sealer.js';
import { createRequestContext, settleWrites } from '../../src/graphql/context.js';
import { refreshAfterWrite } from '../../src/loaders/refreshAfterWrite.js';
import { deriveEntryPolicies } from '../../src/cache/entryPolicies.js';
import { createSchema } from '../../src/graphql/createSchema.js';
import { createLogger } from '../../src/logger.js';
import { medicalRecords, patients } from '../../src/db/tables/index.js';
import { createChartPatient, seededPatient } from '../support/fixtures.js';
import { metricValue } from '../support/metricValue.js';
import { queryRows } from '../support/queryRows.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const CHART = `query Chart($id: ID!) {
  patient(id: $id) { name careTeam { name } records(first: 100) { diagnosis author { name department { name } } } studies { modality orderingDoctor { name } } }
}`;
const redisUrl = process.env.REDIS_URL;

async function measure(server: TestServer, run: () => Promise<unknown>) {
  const registry = server.metrics.registry;
  const count = (op: string) => metricValue(registry, 'caregraph_l2_round_trips_total', { op });
  const [statements, gets, sets, creates] = [
    server.statements(),
    await count('get'),
    await count('set'),
    await count('setIfAbsent'),
  ];
  await run();
  return {
    statements: server.statements() - statements,
    reads: (await count('get')) - gets,
    writes: (await count('set')) - sets,
    creates: (await count('setIfAbsent')) - creates,
  };
}

describe('the layered cache', () => {
  let server: TestServer;
  const policies = deriveEntryPolicies(createSchema().policies);
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  /** A request context of the server's own wiring, for driving loaders directly. */
  function context(tenantId = 't1') {
    return createRequestContext(
      {
        db: server.database.db,
        l2: server.l2,
        entryPolicies: policies,
        logger: createLogger({ level: 'silent' }),
      },
      {
        requestId: 'test',
        clientAddress: '127.0.0.1',
        breakGlassReason: undefined,
        principal: {
          userId: 'test',
          tenantId,
          role: 'admin',
          doctorId: undefined,
          patientId: undefined,
        },
      },
    );
  }

  async function readPatientName(id: string, doctorId: string) {
    const token = await server.token({ role: 'clinician', doctorId });
    const response = await server.graphql(`query ($id: ID!) { patient(id: $id) { name } }`, {
      token,
      variables: { id },
    });
    return (response.body.data?.patient as { name: string } | null)?.name;
  }

  describe('batching', () => {
    it('takes one L2 read per wave of batches, and no SQL warm', async () => {
      const fixture = await createChartPatient(server.database.db, {
        recordCount: 20,
        studyCount: 3,
        mrn: 'ZBATCH1',
      });
      const token = await server.token({ role: 'clinician', doctorId: fixture.careTeamDoctorId });
      const chart = () => server.graphql(CHART, { token, variables: { id: fixture.patientId } });
      const cold = await measure(server, chart);
      // Six batches: care team (permission check), patient, records, studies, doctors, departments.
      // Four waves of them, one L2 read each: the patient with its care team; its records and
      // studies; their doctors; those doctors' departments. Two creations: the tenant's and the
      // patient's generations, then the reference data's.
      expect(cold).toEqual({ statements: 6, reads: 4, writes: 6, creates: 2 });
      const warm = await measure(server, chart);
      // Four warm: the patient with its cached lists (read ahead); records, studies and the care
      // team's doctors; the authors (none on the care team here) and departments; the authors'
      // departments.
      expect(warm).toEqual({ statements: 0, reads: 4, writes: 0, creates: 0 });
    });

    it('serves the same data warm as cold', async () => {
      const fixture = await createChartPatient(server.database.db, {
        recordCount: 7,
        studyCount: 2,
        mrn: 'ZBATCH2',
      });
      const token = await server.token({ role: 'clinician', doctorId: fixture.careTeamDoctorId });
      const cold = await server.graphql(CHART, { token, variables: { id: fixture.patientId } });
      const warm = await server.graphql(CHART, { token, variables: { id: fixture.patientId } });
      expect(warm.body).toEqual(cold.body);
    });
  });

  describe('invalidation', () => {
    it('serves the new value on the next request after a mutation', async () => {
      const patient = await seededPatient(server.database.db, 't1', 10);
      const before = await readPatientName(patient.patientId, patient.careTeamDoctorId);
      expect(await readPatientName(patient.patientId, patient.careTeamDoctorId)).toBe(before);
      const frontdesk = await server.token({ role: 'frontdesk' });
      await server.graphql(
        `mutation ($id: ID!) { updatePatient(id: $id, input: { name: "Changed Name" }) { id } }`,
        {
          token: frontdesk,
          variables: { id: patient.patientId },
        },
      );
      expect(await readPatientName(patient.patientId, patient.careTeamDoctorId)).toBe(
        'Changed Name',
      );
    });

    it("adds a new record to a cached chart's list", async () => {
      const patient = await seededPatient(server.database.db, 't1', 11);
      const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
      const count = async () => {
        const r = await server.graphql(
          `query ($id: ID!) { patient(id: $id) { records(first: 100) { id } } }`,
          {
            token,
            variables: { id: patient.patientId },
          },
        );
        return (r.body.data?.patient as { records: unknown[] }).records.length;
      };
      const before = await count();
      await count();
      await server.graphql(
        `mutation ($p: ID!) { addMedicalRecord(input: { patientId: $p, diagnosisCode: "I10", diagnosis: "Hypertension" }) { id } }`,
        { token, variables: { p: patient.patientId } },
      );
      expect(await count()).toBe(before + 1);
    });

    it("moves a doctor between departments' cached lists", async () => {
      const admin = await server.token({ role: 'admin' });
      const list = async (departmentId: string) => {
        const r = await server.graphql(
          `query ($d: ID!) { department(id: $d) { doctors { id } } }`,
          {
            token: admin,
            variables: { d: departmentId },
          },
        );
        return (r.body.data?.department as { doctors: Array<{ id: string }> }).doctors.map(
          (d) => d.id,
        );
      };
      const [doctor] = await queryRows<{ id: string; department_id: string }>(
        server.database.db,
        sql`select id, department_id from doctors where tenant_id = 't1' order by id limit 1`,
      );
      const [other] = await queryRows<{ id: string }>(
        server.database.db,
        sql`select id from departments where tenant_id = 't1' and id <> ${doctor?.department_id} limit 1`,
      );
      if (doctor === undefined || other === undefined) throw new Error('seed');
      expect(await list(doctor.department_id)).toContain(doctor.id);
      await list(other.id);
      await server.graphql(
        `mutation ($id: ID!, $d: ID!) { updateDoctor(id: $id, input: { departmentId: $d }) { id } }`,
        {
          token: admin,
          variables: { id: doctor.id, d: other.id },
        },
      );
      expect(await list(doctor.department_id)).not.toContain(doctor.id);
      expect(await list(other.id)).toContain(doctor.id);
    });

    it('never lets a read that raced with a write re-insert the old value', async () => {
      const patient = await seededPatient(server.database.db, 't1', 12);
      const frontdesk = await server.token({ role: 'frontdesk' });
      const rename = (name: string) =>
        server.graphql(
          `mutation ($id: ID!, $name: String!) { updatePatient(id: $id, input: { name: $name }) { id } }`,
          { token: frontdesk, variables: { id: patient.patientId, name } },
        );
      // The patient's generation exists, and no entry is valid under it.
      await rename('Before The Race');
      // A reader misses L2 and gets the old row from Postgres; its L2 write is held at the
      // store, as a slow network would hold it, while a mutation commits and invalidates.
      const store = server.l2.store as { setMany: GuardedStore['setMany'] };
      const setMany = store.setMany;
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      store.setMany = async (entries) => {
        store.setMany = setMany;
        await gate;
        return setMany(entries);
      };
      const reader = context();
      const old = await reader.loaders.entities.Patient.load(patient.patientId);
      expect(old?.name).toBe('Before The Race');
      await rename('After The Race');
      // The late insert of the old row lands now, after the write, and really is written.
      const late = await measure(server, async () => {
        release();
        await settleWrites(reader);
      });
      expect(late.writes).toBe(1);

      expect(await readPatientName(patient.patientId, patient.careTeamDoctorId)).toBe(
        'After The Race',
      );
      expect(await readPatientName(patient.patientId, patient.careTeamDoctorId)).toBe(
        'After The Race',
      );
    });
  });

  describe('more invalidation', () => {
    it("shows a mutation's own response the state after the write", async () => {
      const patient = await seededPatient(server.database.db, 't1', 2);
      const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
      const chart = `query ($id: ID!) { patient(id: $id) { records(first: 100) { id } } }`;
      const before = await server.graphql(chart, { token, variables: { id: patient.patientId } });
      await server.graphql(chart, { token, variables: { id: patient.patientId } });
      const count = (before.body.data?.patient as { records: unknown[] }).records.length;
      const added = await server.graphql(
        `mutation ($p: ID!) {
          addMedicalRecord(input: { patientId: $p, diagnosisCode: "I10", diagnosis: "Hypertension" }) {
            id patient { records(first: 100) { id } }
          }
        }`,
        { token, variables: { p: patient.patientId } },
      );
      const record = added.body.data?.addMedicalRecord as {
        id: string;
        patient: { records: Array<{ id: string }> };
      };
      expect(record.patient.records).toHaveLength(count + 1);
      expect(record.patient.records.map((r) => r.id)).toContain(record.id);
    });

    it("drops a written entity's own lists from the request's L1, as well as the lists holding it", async () => {
      const patient = await seededPatient(server.database.db, 't1', 5);
      const [row] = await server.database.db
        .select()
        .from(patients)
        .where(eq(patients.id, patient.patientId));
      if (row === undefined) throw new Error('seed');
      const ctx = context();
      const team = () => ctx.loaders.relations.patientCareTeam.load(patient.patientId);
      await team();
      await settleWrites(ctx);
      expect((await measure(server, team)).reads).toBe(0);
      refreshAfterWrite(ctx.loaders, 'Patient', row);
      expect((await measure(server, team)).reads).toBe(1);
      await settleWrites(ctx);
    });

    it('never caches a record or study whose generation was not read before Postgres', async () => {
      const patient = await seededPatient(server.database.db, 't1', 3);
      const [study] = await queryRows<{ id: string }>(
        server.database.db,
        sql`select id from studies where patient_id = ${patient.patientId} limit 1`,
      );
      if (study === undefined) throw new Error('seed');
      // As on an instance that has never seen this patient: the study's patient is unknown.
      server.l2.patientOf.clear();
      const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
      const reader = context();
      const load = await measure(server, async () => {
        await reader.loaders.entities.Study.load(study.id);
        await settleWrites(reader);
      });
      expect(load.writes).toBe(0);
      await server.graphql(
        `mutation ($id: ID!) { updateStudyReport(id: $id, reportStatus: AMENDED) { id } }`,
        {
          token,
          variables: { id: study.id },
        },
      );
      for (let i = 0; i < 2; i++) {
        const read = await server.graphql(`query ($id: ID!) { study(id: $id) { reportStatus } }`, {
          token,
          variables: { id: study.id },
        });
        expect(read.body.data?.study).toEqual({ reportStatus: 'AMENDED' });
      }
    });

    it('serves an envelope that fails to open as a miss, and counts it', async () => {
      const patient = await seededPatient(server.database.db, 't1', 4);
      const name = await readPatientName(patient.patientId, patient.careTeamDoctorId);
      await readPatientName(patient.patientId, patient.careTeamDoctorId);
      const key = buildCacheKey(server.l2.space, {
        kind: 'entity',
        tenantId: 't1',
        type: 'Patient',
        id: patient.patientId,
      });
      const sealed = (await server.l2.store.getMany([key]))?.[0];
      expect(sealed?.charCodeAt(0)).toBe(ENVELOPE_VERSION);
      // A forged authentication tag (bytes 17-32 of the envelope), as a tampered value would carry.
      const forged = `${(sealed ?? '').slice(0, 17)}${'\0'.repeat(16)}${(sealed ?? '').slice(33)}`;
      await server.l2.store.setMany([{ key, value: forged, ttlMs: 60_000 }]);
      // This process's decoded copy of the entry would be served without opening it.
      server.l2.near.clear();
      const failures = () =>
        metricValue(server.metrics.registry, 'caregraph_cache_unseal_failures_total');
      const before = await failures();
      expect(await readPatientName(patient.patientId, patient.careTeamDoctorId)).toBe(name);
      expect(await failures()).toBe(before + 1);
    });
  });

  describe('consent and purge', () => {
    const entityKey = (type: 'Patient' | 'MedicalRecord', id: string, patientId = id) =>
      buildCacheKey(server.l2.space, { kind: 'entity', tenantId: 't1', type, id, patientId });
    const listKey = (id: string) =>
      buildCacheKey(server.l2.space, {
        kind: 'list',
        tenantId: 't1',
        owner: 'Patient',
        ownerId: id,
        field: 'records',
      });

    /** How many of the patient's L2 entries a fresh request can read. */
    async function readableEntries(patientId: string): Promise<number> {
      const [record] = await server.database.db
        .select({ id: medicalRecords.id })
        .from(medicalRecords)
        .where(and(eq(medicalRecords.tenantId, 't1'), eq(medicalRecords.patientId, patientId)))
        .limit(1);
      const scope = { kind: 'patient', patientId } as const;
      const values = await context().cache.read([
        { key: entityKey('Patient', patientId), scope },
        { key: listKey(patientId), scope },
        { key: entityKey('MedicalRecord', record?.id ?? '', patientId), scope },
      ]);
      return values.filter((v) => v !== undefined).length;
    }

    const readChart = (patientId: string, token: string) =>
      server.graphql(CHART, { token, variables: { id: patientId } });

    it('makes every entry of a patient unreadable on consent revocation, and caches nothing until it is granted again', async () => {
      const patient = await seededPatient(server.database.db, 't1', 13);
      const self = await server.token({ role: 'patient', patientId: patient.patientId });
      await readChart(patient.patientId, self);
      await readChart(patient.patientId, self);
      expect(await readableEntries(patient.patientId)).toBe(3);

      await server.graphql(
        `mutation ($id: ID!) { setConsent(patientId: $id, granted: false) { id } }`,
        {
          token: self,
          variables: { id: patient.patientId },
        },
      );
      expect(await readableEntries(patient.patientId)).toBe(0);
      await readChart(patient.patientId, self);
      await readChart(patient.patientId, self);
      expect(await readableEntries(patient.patientId)).toBe(0);

      await server.graphql(
        `mutation ($id: ID!) { setConsent(patientId: $id, granted: true) { id } }`,
        {
          token: self,
          variables: { id: patient.patientId },
        },
      );
      await readChart(patient.patientId, self);
      expect(await readableEntries(patient.patientId)).toBe(3);
    });

    it('purges a patient in one write, whatever the number of entries', async () => {
      const patient = await seededPatient(server.database.db, 't1', 14);
      const self = await server.token({ role: 'patient', patientId: patient.patientId });
      await readChart(patient.patientId, self);
      expect(await readableEntries(patient.patientId)).toBe(3);
      const admin = await server.token({ role: 'admin' });
      const purge = await measure(server, () =>
        server.graphql(`mutation ($id: ID!) { purgeCache(patientId: $id) }`, {
          token: admin,
          variables: { id: patient.patientId },
        }),
      );
      // One statement: the purge's invalidation, published through Postgres with its audit row.
      expect(purge).toEqual({ statements: 1, reads: 0, writes: 1, creates: 0 });
      expect(await readableEntries(patient.patientId)).toBe(0);
    });

    it('answers purgeCache with the number of generations advanced', async () => {
      const admin = await server.token({ role: 'admin' });
      const patient = await seededPatient(server.database.db, 't1', 16);
      const response = await server.graphql(
        `mutation ($p: ID!) { a: purgeCache(type: Doctor) b: purgeCache c: purgeCache(type: Study) d: purgeCache(patientId: $p) }`,
        { token: admin, variables: { p: patient.patientId } },
      );
      // A patient's purge advances theirs and the searches'; the others, one generation each.
      expect(response.body.data).toEqual({ a: 1, b: 1, c: 1, d: 2 });
    });

    it('refuses a purgeCache type that is not a CacheEntityType before the resolver runs', async () => {
      const admin = await server.token({ role: 'admin' });
      const literal = await server.graphql(`mutation { purgeCache(type: Nope) }`, { token: admin });
      expect(literal.status).toBe(400);
      expect(literal.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(literal.body.errors?.[0]?.message).toContain('CacheEntityType');
      const string = await server.graphql(`mutation { purgeCache(type: "Doctor") }`, {
        token: admin,
      });
      expect(string.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const variable = await server.graphql(
        `mutation ($t: CacheEntityType) { purgeCache(type: $t) }`,
        { token: admin, variables: { t: 'Nope' } },
      );
      expect(variable.status).toBe(400);
      expect(variable.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(variable.body.data).toBeUndefined();
    });
  });

  describe('stampede', () => {
    it('shares one load among concurrent misses for one key in a process', async () => {
      const patient = await seededPatient(server.database.db, 't1', 15);
      const before = await metricValue(server.metrics.registry, 'caregraph_db_queries_total', {
        table: 'patients',
      });
      const readers = Array.from({ length: 8 }, () => context());
      const rows = await Promise.all(
        readers.map((ctx) => ctx.loaders.entities.Patient.load(patient.patientId)),
      );
      expect(new Set(rows.map((row) => row?.id))).toEqual(new Set([patient.patientId]));
      const after = await metricValue(server.metrics.registry, 'caregraph_db_queries_total', {
        table: 'patients',
      });
      expect(after - before).toBe(1);
      await Promise.all(readers.map(settleWrites));
    });
  });

  describe('HTTP caching headers', () => {
    it('marks PHI responses with the smallest maxAge of the fields resolved, and Pragma', async () => {
      const patient = await seededPatient(server.database.db, 't1', 16);
      const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
      const header = async (query: string) => {
        const r = await server.graphql(query, { token, variables: { id: patient.patientId } });
        return [r.headers.get('cache-control'), r.headers.get('pragma')];
      };
      expect(await header(`query ($id: ID!) { patient(id: $id) { name } }`)).toEqual([
        'no-store, no-cache, must-revalidate, max-age=300',
        'no-cache',
      ]);
      expect(await header(`query ($id: ID!) { patient(id: $id) { records { notes } } }`)).toEqual([
        'no-store, no-cache, must-revalidate, max-age=60',
        'no-cache',
      ]);
      expect(
        await header(`query ($id: ID!) { patient(id: $id) { studies { reportStatus } } }`),
      ).toEqual(['no-store, no-cache, must-revalidate, max-age=30', 'no-cache']);
    });

    it('marks reference-only responses private, and mutations and errors no-store', async () => {
      const admin = await server.token({ role: 'admin' });
      const departments = await server.graphql(`{ departments { name } }`, { token: admin });
      expect(departments.headers.get('cache-control')).toBe('private, max-age=7200');
      const doctors = await server.graphql(`{ doctors { name department { name } } }`, {
        token: admin,
      });
      expect(doctors.headers.get('cache-control')).toBe('private, max-age=3600');
      const mutation = await server.graphql(`mutation { purgeCache(type: Doctor) }`, {
        token: admin,
      });
      expect(mutation.headers.get('cache-control')).toBe('no-store');
      const patient = await seededPatient(server.database.db, 't1', 19);
      const frontdesk = await server.token({ role: 'frontdesk' });
      const phiMutation = await server.graphql(
        `mutation ($id: ID!) { updatePatient(id: $id, input: { phone: "+1 555-0123" }) { name phone } }`,
        { token: frontdesk, variables: { id: patient.patientId } },
      );
      expect(phiMutation.headers.get('cache-control')).toBe('no-store');
      expect(phiMutation.headers.get('pragma')).toBe('no-cache');
      const error = await server.graphql(`{ nope }`, { token: admin });
      expect(error.headers.get('cache-control')).toBe('no-store');
    });
  });

  describe('metrics', () => {
    it('counts L1 and L2 hits and misses by type', async () => {
      const patient = await seededPatient(server.database.db, 't1', 17);
      const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
      const registry = server.metrics.registry;
      const hits = () =>
        metricValue(registry, 'caregraph_cache_requests_total', {
          layer: 'l2',
          type: 'Patient',
          result: 'hit',
        });
      const before = await hits();
      await server.graphql(CHART, { token, variables: { id: patient.patientId } });
      await server.graphql(CHART, { token, variables: { id: patient.patientId } });
      expect(await hits()).toBeGreaterThan(before);
      expect(
        await metricValue(registry, 'caregraph_cache_requests_total', {
          layer: 'l1',
          result: 'hit',
        }),
      ).toBeGreaterThan(0);
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(text).toMatch(
        /caregraph_cache_requests_total\{layer="l2",type="\[MedicalRecord\]",result="hit"\} [1-9]/,
      );
      expect(text).toMatch(/caregraph_cache_breaker_state 0/);
    });
  });

  describe.runIf(redisUrl !== undefined)('in Redis', () => {
    // Every node's keys when the suite runs on a Redis Cluster (a SCAN covers one node).
    const nodes = process.env.REDIS_CLUSTER_NODES?.split(',') ?? [redisUrl ?? ''];
    async function keysAndTtls() {
      const result = new Map<string, { ttl: number; value: string }>();
      for (const url of nodes) {
        const client = createClient({ url });
        await client.connect();
        for await (const keys of client.scanIterator({
          MATCH: `${server.l2.space.prefix}:*`,
          COUNT: 500,
        })) {
          for (const key of keys) {
            result.set(key, { ttl: await client.ttl(key), value: (await client.get(key)) ?? '' });
          }
        }
        await client.quit();
      }
      return result;
    }

    it('gives every PHI key a TTL of at most 300 s, and reference keys their directive', async () => {
      const patient = await seededPatient(server.database.db, 't1', 18);
      const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
      await server.graphql(CHART, { token, variables: { id: patient.patientId } });
      const entries = await keysAndTtls();
      const ttlsOf = (pattern: RegExp) => {
        const ttls = [...entries].filter(([key]) => pattern.test(key)).map(([, e]) => e.ttl);
        // Redis answers -1 for a key without expiry: every entry must have one.
        expect(ttls.length).toBeGreaterThan(0);
        for (const ttl of ttls) expect(ttl).toBeGreaterThan(0);
        return ttls;
      };
      for (const ttl of ttlsOf(/:Patient:[0-9a-f-]{36}$/)) expect(ttl).toBeLessThanOrEqual(300);
      for (const ttl of ttlsOf(/:Patient:[0-9a-f-]{36}:(records|studies|careTeam)$/)) {
        expect(ttl).toBeLessThanOrEqual(300);
      }
      for (const ttl of ttlsOf(/:MedicalRecord:/)) expect(ttl).toBeLessThanOrEqual(60);
      for (const ttl of ttlsOf(/:Study:/)) expect(ttl).toBeLessThanOrEqual(30);
      for (const ttl of ttlsOf(/:Doctor:/)) expect(ttl).toBeGreaterThan(3500);
      for (const ttl of ttlsOf(/:Doctor:/)) expect(ttl).toBeLessThanOrEqual(3600);
      for (const ttl of ttlsOf(/:Department:/)) expect(ttl).toBeGreaterThan(7100);
    });

    it('holds no patient name, MRN or diagnosis in clear', async () => {
      const [row] = await server.database.db
        .select()
        .from(patients)
        .where(eq(patients.tenantId, 't1'))
        .limit(1);
      if (row === undefined) throw new Error('seed');
      const frontdesk = await server.token({ role: 'frontdesk' });
      await server.graphql(`query ($q: String!) { patients(search: $q) { id name } }`, {
        token: frontdesk,
        variables: { q: row.name.split(' ')[0] ?? '' },
      });
      const seeded = await queryRows<{ name: string; mrn: string; diagnosis: string }>(
        server.database.db,
        sql`select p.name, p.mrn, r.diagnosis from patients p join medical_records r on r.patient_id = p.id where p.tenant_id = 't1' limit 200`,
      );
      const entries = await keysAndTtls();
      expect(entries.size).toBeGreaterThan(10);
      const everything = [...entries].map(([key, e]) => `${key} ${e.value}`).join('\n');
      for (const { name, mrn, diagnosis } of seeded) {
        expect(everything).not.toContain(name);
        expect(everything).not.toContain(mrn);
        expect(everything).not.toContain(diagnosis);
      }
      expect(everything).not.toContain(row.name.split(' ')[0]?.toLowerCase() ?? 'x');
    });
  });
});
