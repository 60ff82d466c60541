import { createClient } from '@keyv/redis';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCacheKey } from '../../src/cache/cacheKey.js';
import { PHI_MAX_AGE_CAP_SECONDS } from '../../src/policy/cachePolicy.js';
import { medicalRecords, patients, studies } from '../../src/db/tables/index.js';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const redisUrl = process.env.REDIS_URL;
const CAP_MS = PHI_MAX_AGE_CAP_SECONDS * 1000;
const CHART = `query Chart($id: ID!) {
  patient(id: $id) { name phone careTeam { name } records(first: 100) { diagnosis author { name } } studies { modality reportStatus } }
}`;

// What Redis holds is the point here: SCAN and PTTL need a real one.
describe.runIf(redisUrl !== undefined)('l2Cache keys that name a patient', () => {
  let server: TestServer;
  let redis: ReturnType<typeof createClient>;
  let patient: SeededPatient;
  /** The patient's id and those of their records and studies. */
  let ids: string[];

  beforeAll(async () => {
    server = await startTestServer();
    redis = createClient({ url: redisUrl });
    await redis.connect();
    patient = await seededPatient(server.database.db, 't1', 3);
    const records = await server.database.db
      .select({ id: medicalRecords.id })
      .from(medicalRecords)
      .where(
        and(eq(medicalRecords.tenantId, 't1'), eq(medicalRecords.patientId, patient.patientId)),
      );
    const imaging = await server.database.db
      .select({ id: studies.id })
      .from(studies)
      .where(and(eq(studies.tenantId, 't1'), eq(studies.patientId, patient.patientId)));
    ids = [patient.patientId, ...records.map((r) => r.id), ...imaging.map((s) => s.id)];
    expect(records.length).toBeGreaterThan(0);
    expect(imaging.length).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await redis.quit();
    await server.close();
  });

  async function keysNamingThePatient(): Promise<string[]> {
    const found: string[] = [];
    for await (const batch of redis.scanIterator({
      MATCH: `${server.config.cache.keyPrefix}:*`,
      COUNT: 1000,
    })) {
      found.push(...batch.filter((key) => ids.some((id) => key.includes(id))));
    }
    return found;
  }

  async function ok(query: string, token: string, variables: Record<string, unknown>) {
    const response = await server.graphql(query, { token, variables });
    expect(response.body.errors).toBeUndefined();
    return response;
  }

  it('gives every key of a patient, record or study a TTL of at most 300 s', async () => {
    const [row] = await server.database.db
      .select({ name: patients.name })
      .from(patients)
      .where(eq(patients.id, patient.patientId));
    const term = (row?.name ?? '').split(' ')[0] ?? '';
    const clinician = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    const self = await server.token({ role: 'patient', patientId: patient.patientId });
    const frontdesk = await server.token({ role: 'frontdesk' });
    const search = `query ($s: String!) { patients(search: $s, first: 50) { id name } }`;
    for (let round = 0; round < 2; round++) {
      await ok(CHART, clinician, { id: patient.patientId });
      await ok(CHART, self, { id: patient.patientId });
      await ok(search, self, { s: term });
      await ok(search, clinician, { s: term });
      await ok(search, frontdesk, { s: term });
      for (const id of ids.slice(1)) {
        await ok(
          'query ($id: ID!) { medicalRecord(id: $id) { id } study(id: $id) { id } }',
          clinician,
          { id },
        );
      }
    }
    // A write bumps the patient's generation; the chart is cached again after it.
    await ok(
      'mutation ($id: ID!) { updatePatient(id: $id, input: { phone: "555-0100" }) { id } }',
      frontdesk,
      { id: patient.patientId },
    );
    await ok(CHART, clinician, { id: patient.patientId });

    const keys = await keysNamingThePatient();
    const base = `${server.l2.space.prefix}:${server.l2.space.schemaVersion}`;
    // The patient's slot (a Redis Cluster hash tag), and the tenant's for searches.
    const own = `${base}:{t1:p:${patient.patientId}}`;
    // Every kind of key that names them is there, so that the check below checks something.
    for (const kind of [
      `${own}:gen:patient:${patient.patientId}`,
      `${own}:Patient:${patient.patientId}`,
      `${own}:Patient:${patient.patientId}:records`,
      `${own}:Patient:${patient.patientId}:studies`,
      `${own}:Patient:${patient.patientId}:careTeam`,
      `${base}:{t1}:search:self:${patient.patientId}:`,
      `${own}:MedicalRecord:`,
      `${own}:Study:`,
    ]) {
      expect(keys.some((key) => key.startsWith(kind))).toBe(true);
    }
    const ttls = await Promise.all(keys.map(async (key) => [key, await redis.pTTL(key)] as const));
    const outside = ttls.filter(([, ttl]) => !(ttl > 0 && ttl <= CAP_MS));
    expect(outside).toEqual([]);
  });

  it("extends a patient's generation when entries are written under it, to outlive them", async () => {
    const clinician = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    const readName = async () => {
      const statements = server.statements();
      await ok('query ($id: ID!) { patient(id: $id) { name } }', clinician, {
        id: patient.patientId,
      });
      return server.statements() - statements;
    };
    await readName();
    expect(await readName()).toBe(0);
    const space = server.l2.space;
    const generation = buildCacheKey(space, {
      kind: 'generation',
      tenantId: 't1',
      scope: { kind: 'patient', patientId: patient.patientId },
    });
    const entry = buildCacheKey(space, {
      kind: 'entity',
      tenantId: 't1',
      type: 'Patient',
      id: patient.patientId,
    });
    // The generation is near its end, and the entry is gone (from Redis, and from this
    // process's near cache): the next read writes it again.
    await redis.pExpire(generation, 2_000);
    await redis.del(entry);
    server.l2.near.clear();
    expect(await readName()).toBeGreaterThan(0);
    const [generationTtl, entryTtl] = [await redis.pTTL(generation), await redis.pTTL(entry)];
    expect(generationTtl).toBeGreaterThan(CAP_MS - 5_000);
    expect(generationTtl).toBeLessThanOrEqual(CAP_MS);
    expect(entryTtl).toBeGreaterThan(0);
    expect(entryTtl).toBeLessThanOrEqual(generationTtl);
    expect(await readName()).toBe(0);
  });
});
