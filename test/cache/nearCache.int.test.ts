import { createCipheriv, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildCacheKey } from '../../src/cache/cacheKey.js';
import { keyIdOf } from '../../src/cache/sealer.js';
import { createDatabase } from '../../src/db/client.js';
import { createChartPatient, seededPatient, type SeededPatient } from '../support/fixtures.js';
import { metricValue } from '../support/metricValue.js';
import { queryRows } from '../support/queryRows.js';
import { freePort, redisProcess, type RedisProcess } from '../support/redisServer.js';
import { createTestDatabase } from '../support/testDatabase.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const CHART = `query Chart($id: ID!) {
  patient(id: $id) { name careTeam { name } records(first: 100) { id diagnosis author { name department { name } } } studies { modality orderingDoctor { name } } }
}`;
const redisUrl = process.env.REDIS_URL;
const shared = inject('postgresRun') !== null && redisUrl !== undefined;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The sealer of the previous release: a JSON envelope of base64 fields. */
function legacySeal(key: Buffer, cacheKey: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(cacheKey));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return JSON.stringify({
    kid: keyIdOf(key),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  });
}

interface Chart {
  readonly name: string | undefined;
  readonly records: number;
  readonly codes: string[];
  readonly statements: number;
}

async function chart(server: TestServer, token: string, patientId: string): Promise<Chart> {
  const statements = server.statements();
  const response = await server.graphql(CHART, { token, variables: { id: patientId } });
  expect(response.status).toBe(200);
  const patient = response.body.data?.patient as
    { name: string | null; records: unknown[] | null } | null | undefined;
  return {
    name: patient?.name ?? undefined,
    records: patient?.records?.length ?? -1,
    codes: (response.body.errors ?? []).map((e) => String(e.extensions?.code)),
    statements: server.statements() - statements,
  };
}

const nearHits = (server: TestServer, type = 'Patient') =>
  metricValue(server.metrics.registry, 'caregraph_cache_requests_total', {
    layer: 'near',
    type,
  });

/** The ids that name a patient in a key: theirs, their records' and their studies'. */
async function idsOf(server: TestServer, patientId: string): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(
    server.database.db,
    sql`select id from medical_records where patient_id = ${patientId} union all select id from studies where patient_id = ${patientId}`,
  );
  return [patientId, ...rows.map((r) => r.id)];
}
const keptOf = (server: TestServer, ids: ReadonlyArray<string>) =>
  server.l2.near.keys().filter((key) => ids.some((id) => key.includes(id)));

// Two servers sharing one Redis, one Postgres and one key prefix: two instances of a deployment.
describe.runIf(shared)('the near cache, across two instances', () => {
  let a: TestServer;
  let b: TestServer;
  let patient: SeededPatient;
  let clinician: string;
  let frontdesk: string;
  let admin: string;
  let self: string;

  beforeAll(async () => {
    const database = await createTestDatabase();
    const url = database.url ?? '';
    await database.close();
    const env = { CACHE_KEY_PREFIX: `near${randomBytes(4).toString('hex')}` };
    const options = {
      database: (onStatement: (table: string) => void) =>
        createDatabase({ url, poolMax: 3, onStatement }),
    };
    [a, b] = await Promise.all([
      startTestServer(env, undefined, options),
      startTestServer(env, undefined, options),
    ]);
    patient = await seededPatient(a.database.db, 't1', 9);
    clinician = await a.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    frontdesk = await b.token({ role: 'frontdesk' });
    admin = await b.token({ role: 'admin' });
    self = await b.token({ role: 'patient', patientId: patient.patientId });
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  const rename = async (name: string) => {
    const response = await b.graphql(
      'mutation ($id: ID!, $n: String!) { updatePatient(id: $id, input: { name: $n }) { name } }',
      { token: frontdesk, variables: { id: patient.patientId, n: name } },
    );
    expect(response.body.data?.updatePatient).toEqual({ name });
  };
  const mutate = async (document: string, token: string) => {
    const response = await b.graphql(document, { token, variables: { p: patient.patientId } });
    expect(response.body.errors).toBeUndefined();
  };

  it('never serves on one instance what a write acknowledged by the other replaced', async () => {
    const before = await nearHits(a);
    let current = (await chart(a, clinician, patient.patientId)).name;
    let records = (await chart(a, clinician, patient.patientId)).records;
    for (let i = 0; i < 20; i++) {
      // Postgres or L2, then L2 (kept near), then the near copy: all the same.
      for (let r = 0; r < 3; r++) {
        const read = await chart(a, clinician, patient.patientId);
        expect(read).toMatchObject({ name: current, records, codes: [] });
      }
      current = `Near Loop ${i} Zoë 李`;
      if (i % 5 === 4) {
        await mutate(
          `mutation ($p: ID!) { addMedicalRecord(input: { patientId: $p, diagnosisCode: "I10", diagnosis: "Hypertension" }) { id } }`,
          clinician,
        );
        records += 1;
      }
      // Reads racing the write may see either; every read after its answer sees the new one.
      const racing = Promise.all([
        chart(a, clinician, patient.patientId),
        chart(a, clinician, patient.patientId),
      ]);
      await rename(current);
      await racing;
      expect(await chart(a, clinician, patient.patientId)).toMatchObject({
        name: current,
        records,
      });
    }
    // A served from its near cache meanwhile: the loop tested it, not only L2.
    expect((await nearHits(a)) - before).toBeGreaterThanOrEqual(20);
    expect((await nearHits(a, '[MedicalRecord]')) - before).toBeGreaterThan(0);
  });

  it('serves nothing of a patient from a near copy after a consent revocation or a purge on the other instance, and keeps nothing of theirs', async () => {
    const ids = await idsOf(a, patient.patientId);
    for (let round = 0; round < 3; round++) {
      for (let r = 0; r < 3; r++) await chart(a, clinician, patient.patientId);
      expect(keptOf(a, ids).length).toBeGreaterThan(0);

      await mutate('mutation ($p: ID!) { setConsent(patientId: $p, granted: false) { id } }', self);
      // A stale copy of the patient row (consent granted) would let the clinician read on.
      for (let r = 0; r < 3; r++) {
        const read = await chart(a, clinician, patient.patientId);
        expect(read.codes).toContain('FORBIDDEN');
        expect(read.name).toBeUndefined();
        expect(keptOf(a, ids)).toEqual([]);
      }
      await mutate('mutation ($p: ID!) { setConsent(patientId: $p, granted: true) { id } }', self);
      for (let r = 0; r < 3; r++) {
        expect((await chart(a, clinician, patient.patientId)).codes).toEqual([]);
      }
      expect(keptOf(a, ids).length).toBeGreaterThan(0);

      await mutate('mutation ($p: ID!) { purgeCache(patientId: $p) }', admin);
      // Everything of the patient comes from Postgres again: nothing from a copy.
      const afterPurge = await chart(a, clinician, patient.patientId);
      expect(afterPurge.statements).toBeGreaterThanOrEqual(3);
      expect(keptOf(a, ids)).toEqual([]);
    }
  });

  it('keeps its values in Redis as binary envelopes, with no JSON around them', async () => {
    const { createClient } = await import('@keyv/redis');
    const client = createClient({ url: redisUrl });
    await client.connect();
    try {
      const binary = client.withTypeMapping({ 36: Buffer });
      let seen = 0;
      for await (const keys of client.scanIterator({ MATCH: `${a.l2.space.prefix}:*` })) {
        for (const key of keys) {
          const value = await binary.get(key);
          if (value === null) continue;
          seen++;
          // The store's tag for a binary string, then the envelope's version.
          expect([value[0], value[1]], key).toEqual([0xf5, 2]);
        }
      }
      expect(seen).toBeGreaterThan(10);
    } finally {
      await client.quit();
    }
  });
});

describe('the near cache of one instance', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ NEAR_CACHE_TTL_MS: '10000' });
  });
  afterAll(async () => {
    await server.close();
  });

  it("never keeps an entry of a patient who withheld consent, however often it's read", async () => {
    const patient = await seededPatient(server.database.db, 't1', 11);
    await queryRows(
      server.database.db,
      sql`update patients set consent_granted = false where id = ${patient.patientId}`,
    );
    const ids = await idsOf(server, patient.patientId);
    const self = await server.token({ role: 'patient', patientId: patient.patientId });
    for (let r = 0; r < 5; r++) {
      const read = await chart(server, self, patient.patientId);
      expect(read.records).toBeGreaterThan(0);
      expect(read.statements).toBeGreaterThan(0);
    }
    expect(keptOf(server, ids)).toEqual([]);
  });

  it('counts near hits as their own layer, and as L2 hits too', async () => {
    const patient = await seededPatient(server.database.db, 't1', 12);
    const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    const l2Hits = () =>
      metricValue(server.metrics.registry, 'caregraph_cache_requests_total', {
        layer: 'l2',
        type: 'Patient',
        result: 'hit',
      });
    await chart(server, token, patient.patientId);
    await chart(server, token, patient.patientId);
    const [near, l2] = [await nearHits(server), await l2Hits()];
    const read = await chart(server, token, patient.patientId);
    expect(read.statements).toBe(0);
    expect((await nearHits(server)) - near).toBeGreaterThan(0);
    expect((await l2Hits()) - l2).toBe((await nearHits(server)) - near);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(
      /caregraph_cache_requests_total\{layer="near",type="Patient",result="hit"\} [1-9]/,
    );
  });

  it('answers a warm chart from its copies with one L2 round trip, for the control values', async () => {
    const fixture = await createChartPatient(server.database.db, {
      recordCount: 12,
      studyCount: 3,
      mrn: 'ZNEAR1',
    });
    const token = await server.token({ role: 'clinician', doctorId: fixture.careTeamDoctorId });
    const gets = () =>
      metricValue(server.metrics.registry, 'caregraph_l2_round_trips_total', { op: 'get' });
    const cold = await chart(server, token, fixture.patientId);
    await chart(server, token, fixture.patientId);
    const before = await gets();
    const near = await chart(server, token, fixture.patientId);
    expect(near).toEqual({ ...cold, statements: 0 });
    expect((await gets()) - before).toBe(1);
  });

  it.runIf(redisUrl !== undefined)(
    'reads entries and generations left by the JSON envelope of earlier releases as misses, never errors',
    async () => {
      const patient = await seededPatient(server.database.db, 't1', 13);
      const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
      const first = await chart(server, token, patient.patientId);
      const key = (target: Parameters<typeof buildCacheKey>[1]) =>
        buildCacheKey(server.l2.space, target);
      const entity = key({
        kind: 'entity',
        tenantId: 't1',
        type: 'Patient',
        id: patient.patientId,
      });
      const generation = key({
        kind: 'generation',
        tenantId: 't1',
        scope: { kind: 'patient', patientId: patient.patientId },
      });
      const [cacheKey] = server.config.cacheEncryptionKeys;
      const { createClient } = await import('@keyv/redis');
      const client = createClient({ url: redisUrl });
      await client.connect();
      try {
        // As the previous release wrote them: Keyv's JSON around a JSON envelope.
        const legacy = (k: string, plaintext: string) =>
          JSON.stringify({ value: legacySeal(cacheKey ?? Buffer.alloc(32), k, plaintext) });
        await client.set(generation, legacy(generation, 'AAAAAAAAAAAAAAAAAAAAAA'), { PX: 60_000 });
        await client.set(entity, legacy(entity, JSON.stringify({ s: 'x', v: { name: 'Old' } })), {
          PX: 60_000,
        });
        server.l2.near.clear();
        for (let r = 0; r < 3; r++) {
          const read = await chart(server, token, patient.patientId);
          expect(read).toMatchObject({ name: first.name, records: first.records, codes: [] });
        }
      } finally {
        await client.quit();
      }
    },
  );

  it('never serves a copy past the TTL its entry was written with', async () => {
    const scope = { kind: 'patient', patientId: 'ttl-probe' } as const;
    const entry = {
      key: buildCacheKey(server.l2.space, {
        kind: 'entity',
        tenantId: 't1',
        type: 'Patient',
        id: 'ttl-probe',
      }),
      scope,
      type: 'Patient',
    };
    const writer = server.l2.forRequest('t1');
    await writer.read([entry]);
    const written = Date.now();
    await writer.write([
      { ...entry, value: { v: 1 }, policy: { cacheClass: 'phi', maxAgeSeconds: 1 } },
    ]);
    const read = async () => (await server.l2.forRequest('t1').read([entry]))[0];
    expect(await read()).toEqual({ v: 1 });
    const before = await nearHits(server);
    expect(await read()).toEqual({ v: 1 });
    expect(await nearHits(server)).toBe(before + 1);
    await sleep(Math.max(0, written + 1_050 - Date.now()));
    // The near TTL is 10 s; the entry's own TTL has passed.
    expect(await read()).toBeUndefined();
  });
});

// Needs a redis-server of the test's own, to kill; CI has one.
describe.runIf(redisUrl !== undefined)('the near cache while Redis is down', () => {
  let redis: RedisProcess;
  let server: TestServer;
  beforeAll(async () => {
    redis = redisProcess(await freePort());
    await redis.start();
    server = await startTestServer({
      REDIS_URL: redis.url,
      REDIS_COMMAND_TIMEOUT_MS: '50',
      NEAR_CACHE_TTL_MS: '10000',
      CACHE_BREAKER_RESET_MS: '60000',
    });
  });
  afterAll(async () => {
    await server.close();
    await redis.kill();
  });

  it('serves no near copy once Redis cannot be read, nor while the breaker is open', async () => {
    const patient = await seededPatient(server.database.db, 't1', 6);
    const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    for (let r = 0; r < 3; r++) await chart(server, token, patient.patientId);
    const warm = await chart(server, token, patient.patientId);
    expect(warm.statements).toBe(0);
    expect(server.l2.near.keys().length).toBeGreaterThan(0);
    await redis.kill();
    const before = await nearHits(server);
    for (let r = 0; r < 6; r++) {
      const read = await chart(server, token, patient.patientId);
      expect(read.codes).toEqual([]);
      expect(read.name).toBe(warm.name);
      expect(read.statements).toBeGreaterThan(0);
    }
    expect(await nearHits(server)).toBe(before);
    // Back up, so that the server closes as it does in service.
    await redis.start();
  });
});
