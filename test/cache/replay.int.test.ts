import { createClient } from '@keyv/redis';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { metricValue } from '../support/metricValue.js';
import { createTestDatabase } from '../support/testDatabase.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const redisUrl = process.env.REDIS_URL;
const CHART = `query Chart($id: ID!) {
  patient(id: $id) { name consentGranted careTeam { name } records(first: 5) { diagnosis } studies { modality } }
}`;
const REVOKE = `mutation ($id: ID!) { setConsent(patientId: $id, granted: false) { id } }`;
const BLOB_STRING = 36;

interface Saved {
  readonly key: string;
  readonly value: Buffer;
  readonly ttlMs: number;
}

// The attacker of issue 12 can write to Redis but holds no key: after a consent revocation they
// put back every value the server had written before it (entries, generations, epoch), byte for
// byte. Sealing alone opens them all; what stops them is that each generation carries the
// invalidation it was made at, and every instance knows the patient's latest one.
describe.runIf(redisUrl !== undefined && inject('postgresRun') !== null)(
  'replayed L2 values',
  () => {
    let database: DatabaseHandle & { url: string | undefined };
    let first: TestServer;
    let redis: ReturnType<typeof createClient>;
    let patient: SeededPatient;
    const open = (onStatement: (table: string) => void) =>
      createDatabase({ url: database.url, poolMax: 3, onStatement });

    beforeAll(async () => {
      database = await createTestDatabase();
      first = await startTestServer({}, undefined, { database: open });
      redis = createClient({ url: redisUrl });
      await redis.connect();
      patient = await seededPatient(database.db, 't1', 5);
    });
    afterAll(async () => {
      await redis.quit();
      await first.close();
      await database.close();
    });

    /** Every value under the server's prefix, as bytes, with its TTL. */
    async function snapshot(prefix: string): Promise<Saved[]> {
      const binary = redis.withTypeMapping({ [BLOB_STRING]: Buffer });
      const saved: Saved[] = [];
      for await (const keys of redis.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) {
        for (const key of keys) {
          const value = await binary.get(key);
          const ttlMs = await redis.pTTL(key);
          if (value !== null && ttlMs > 0) saved.push({ key, value, ttlMs });
        }
      }
      return saved;
    }

    async function replay(saved: ReadonlyArray<Saved>): Promise<void> {
      for (const { key, value, ttlMs } of saved) {
        await redis.set(key, value, { expiration: { type: 'PX', value: ttlMs } });
      }
    }

    async function chart(server: TestServer, token: string) {
      const response = await server.graphql(CHART, { token, variables: { id: patient.patientId } });
      expect(response.status).toBe(200);
      return response.body;
    }

    it('serves nothing of a revoked chart from old values put back, on the writer or a new instance', async () => {
      const clinician = await first.token({
        role: 'clinician',
        doctorId: patient.careTeamDoctorId,
      });
      const frontdesk = await first.token({ role: 'frontdesk' });
      expect((await chart(first, clinician)).data?.patient).not.toBeNull();
      const warm = await chart(first, clinician);
      expect(warm.data?.patient).toMatchObject({ consentGranted: true });
      const before = await snapshot(first.config.cache.keyPrefix);
      // The chart's entries, its patient's generation, the tenant's and the epoch are all there.
      expect(before.length).toBeGreaterThan(5);

      const revoked = await first.graphql(REVOKE, {
        token: frontdesk,
        variables: { id: patient.patientId },
      });
      expect(revoked.body.errors).toBeUndefined();
      await replay(before);

      const superseded = () =>
        metricValue(first.metrics.registry, 'caregraph_cache_superseded_generations_total');
      const seen = await superseded();
      const afterReplay = await chart(first, clinician);
      expect(afterReplay.data?.patient ?? null).toBeNull();
      expect(afterReplay.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(await superseded()).toBeGreaterThan(seen);

      // An instance started after the revocation learns it from Postgres before it serves.
      const second = await startTestServer(
        { CACHE_KEY_PREFIX: first.config.cache.keyPrefix },
        undefined,
        { database: open },
      );
      try {
        await replay(before);
        const onSecond = await chart(second, clinician);
        expect(onSecond.data?.patient ?? null).toBeNull();
        expect(onSecond.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      } finally {
        await second.close();
      }
    });

    it('serves a doctor’s new name on a new instance after the old reference data is put back', async () => {
      const admin = await first.token({ role: 'admin' });
      const reader = await first.token({ role: 'frontdesk' });
      const doctor = `query ($id: ID!) { doctor(id: $id) { name } }`;
      const id = patient.otherDoctorId;
      const read = async (server: TestServer) =>
        (
          (await server.graphql(doctor, { token: reader, variables: { id } })).body.data?.doctor as
            { name: string } | undefined
        )?.name;
      const oldName = await read(first);
      expect(await read(first)).toBe(oldName);
      const before = await snapshot(first.config.cache.keyPrefix);
      const renamed = await first.graphql(
        `mutation ($id: ID!) { updateDoctor(id: $id, input: { name: "Dr Replay Proof" }) { name } }`,
        { token: admin, variables: { id } },
      );
      expect(renamed.body.errors).toBeUndefined();
      await replay(before);
      expect(await read(first)).toBe('Dr Replay Proof');
      // Reference floors outlive the outbox: a new instance reads them from cache_scope_floors.
      await database.db.execute(sql`delete from cache_invalidations`);
      const second = await startTestServer(
        { CACHE_KEY_PREFIX: first.config.cache.keyPrefix },
        undefined,
        { database: open },
      );
      try {
        await replay(before);
        expect(await read(second)).toBe('Dr Replay Proof');
      } finally {
        await second.close();
      }
    });
  },
);
