import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { spawnServer, type SpawnedServer } from '../support/spawnServer.js';
import { createTestDatabase } from '../support/testDatabase.js';

const redisUrl = process.env.REDIS_URL;
// `.ci/run` runs this file a second time with REDIS_CLUSTER_NODES: on a Redis Cluster.
const clusterNodes = process.env.REDIS_CLUSTER_NODES;
const shared =
  inject('postgresRun') !== null && (redisUrl !== undefined || clusterNodes !== undefined);

// Two processes share state only through a real Postgres and a real Redis.
describe.runIf(shared)(
  `two server processes sharing Redis${clusterNodes ? ' Cluster' : ''}`,
  () => {
    let database: DatabaseHandle & { url: string | undefined };
    let a: SpawnedServer;
    let b: SpawnedServer;
    let patient: SeededPatient;
    const jwt = loadConfig({}).jwt;

    beforeAll(async () => {
      database = await createTestDatabase();
      patient = await seededPatient(database.db, 't1', 2);
      const env = {
        DATABASE_URL: database.url ?? '',
        ...(clusterNodes === undefined
          ? { REDIS_URL: redisUrl ?? '' }
          : { REDIS_URL: '', REDIS_CLUSTER_NODES: clusterNodes }),
        CACHE_KEY_PREFIX: `two${randomBytes(4).toString('hex')}`,
      };
      [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
    }, 60_000);
    afterAll(async () => {
      await Promise.all([a.stop(), b.stop()]);
      await database.close();
    });

    async function query(
      server: SpawnedServer,
      token: string,
      document: string,
      variables: Record<string, unknown>,
    ) {
      const response = await fetch(`${server.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: document, variables }),
      });
      return (await response.json()) as {
        data?: Record<string, { name?: string } | null>;
        errors?: unknown[];
      };
    }

    it('serves on B the value a mutation on A has just acknowledged', async () => {
      const clinician = await signToken(
        { sub: 'c', tenant: 't1', role: 'clinician', doctorId: patient.careTeamDoctorId },
        jwt,
      );
      const frontdesk = await signToken({ sub: 'f', tenant: 't1', role: 'frontdesk' }, jwt);
      const read = async (server: SpawnedServer) =>
        (
          await query(server, clinician, 'query ($id: ID!) { patient(id: $id) { name } }', {
            id: patient.patientId,
          })
        ).data?.patient?.name;
      const original = await read(b);
      expect(await read(b)).toBe(original);
      expect(await read(a)).toBe(original);

      for (const name of ['Renamed On A', 'Renamed Again On A']) {
        const update = await query(
          a,
          frontdesk,
          'mutation ($id: ID!, $n: String!) { updatePatient(id: $id, input: { name: $n }) { id } }',
          {
            id: patient.patientId,
            n: name,
          },
        );
        expect(update.errors).toBeUndefined();
        expect(await read(b)).toBe(name);
      }
    });

    it('serves on A reference data an admin has just changed on B', async () => {
      const admin = await signToken({ sub: 'a', tenant: 't1', role: 'admin' }, jwt);
      const read = async (server: SpawnedServer) =>
        (
          await query(server, admin, 'query ($id: ID!) { doctor(id: $id) { name } }', {
            id: patient.otherDoctorId,
          })
        ).data?.doctor?.name;
      await read(a);
      await read(a);
      await query(
        b,
        admin,
        'mutation ($id: ID!) { updateDoctor(id: $id, input: { name: "Dr. Changed On B" }) { id } }',
        {
          id: patient.otherDoctorId,
        },
      );
      expect(await read(a)).toBe('Dr. Changed On B');
    });
  },
);

describe.runIf(shared)('automatic persisted queries across processes', () => {
  it('runs on B a query registered on A', async () => {
    const database = await createTestDatabase();
    const env = {
      DATABASE_URL: database.url ?? '',
      ...(clusterNodes === undefined
        ? { REDIS_URL: redisUrl ?? '' }
        : { REDIS_URL: '', REDIS_CLUSTER_NODES: clusterNodes }),
      CACHE_KEY_PREFIX: `apq${randomBytes(4).toString('hex')}`,
    };
    const [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
    try {
      const admin = await signToken({ sub: 'a', tenant: 't1', role: 'admin' }, loadConfig({}).jwt);
      const query = `{ departments { name } } # ${randomBytes(4).toString('hex')}`;
      const hash = createHash('sha256').update(query).digest('hex');
      const send = (server: SpawnedServer, body: unknown) =>
        fetch(`${server.origin}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
          body: JSON.stringify(body),
        }).then(
          (r) =>
            r.json() as Promise<{
              data?: unknown;
              errors?: Array<{ extensions?: { code?: string } }>;
            }>,
        );
      const extensions = { persistedQuery: { version: 1, sha256Hash: hash } };
      expect((await send(b, { extensions })).errors?.[0]?.extensions?.code).toBe(
        'PERSISTED_QUERY_NOT_FOUND',
      );
      expect((await send(a, { query, extensions })).errors).toBeUndefined();
      const onB = await send(b, { extensions });
      expect(onB.errors).toBeUndefined();
      expect((onB.data as { departments: unknown[] }).departments).toHaveLength(10);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await database.close();
    }
  }, 60_000);
});
