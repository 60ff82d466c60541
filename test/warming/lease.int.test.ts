import { randomBytes } from 'node:crypto';
import { createClient, createCluster } from '@keyv/redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { seededPatient } from '../support/fixtures.js';
import { spawnServer, type SpawnedServer } from '../support/spawnServer.js';
import { createTestDatabase } from '../support/testDatabase.js';
import { waitFor } from '../support/waitFor.js';

const redisUrl = process.env.REDIS_URL;
// `.ci/run` runs this file a second time with REDIS_CLUSTER_NODES: on a Redis Cluster.
const clusterNodes = process.env.REDIS_CLUSTER_NODES;
const shared =
  inject('postgresRun') !== null && (redisUrl !== undefined || clusterNodes !== undefined);
const LEASE_MS = 2_000;

/** What a scan of every node needs of a node's client. */
interface ScanNode {
  scanIterator(options: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
}

async function leaseHeld(server: SpawnedServer): Promise<boolean> {
  const text = await (await fetch(`${server.origin}/metrics`)).text();
  return /^caregraph_cache_warm_lease_held 1$/m.test(text);
}

// The lease and the hot sets live in Redis: two processes share them only through a real one.
describe.runIf(shared)(
  `the warmer across processes${clusterNodes ? ' on a Redis Cluster' : ''}`,
  () => {
    let database: DatabaseHandle & { url: string | undefined };
    let servers: SpawnedServer[] = [];
    const prefix = `warm${randomBytes(4).toString('hex')}`;

    beforeAll(async () => {
      database = await createTestDatabase();
    }, 60_000);
    afterAll(async () => {
      await Promise.all(servers.map((server) => server.stop()));
      await database.close();
    });

    const start = () =>
      spawnServer({
        DATABASE_URL: database.url ?? '',
        ...(clusterNodes === undefined
          ? { REDIS_URL: redisUrl ?? '' }
          : { REDIS_URL: '', REDIS_CLUSTER_NODES: clusterNodes }),
        CACHE_KEY_PREFIX: prefix,
        CACHE_WARM: 'on',
        CACHE_WARM_PHI_TENANTS: 't1',
        CACHE_WARM_LEASE_MS: String(LEASE_MS),
        CACHE_WARM_INTERVAL_MS: '500',
        CACHE_WARM_FLUSH_MS: '500',
      });

    it('is held by one process at a time, and handed over within a lease period when its holder is killed', async () => {
      servers = await Promise.all([start(), start()]);
      const holder = await waitFor(
        'a holder',
        async () => {
          const held = await Promise.all(servers.map(leaseHeld));
          const holders = servers.filter((_, i) => held[i]);
          expect(holders.length).toBeLessThanOrEqual(1);
          return holders[0];
        },
        10_000,
      );
      const other = servers.find((server) => server !== holder) as SpawnedServer;
      // Several checks over a few renewals: never two holders.
      for (let i = 0; i < 10; i++) {
        const held = await Promise.all(servers.map(leaseHeld));
        expect(held.filter(Boolean)).toHaveLength(1);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      holder.child.kill('SIGKILL');
      const killedAt = Date.now();
      await waitFor(
        'the other process to take the lease',
        async () => ((await leaseHeld(other)) ? true : undefined),
        LEASE_MS * 3,
      );
      // The lease expires at most LEASE_MS after the holder's last renewal, and the other asks
      // for it every third of one.
      expect(Date.now() - killedAt).toBeLessThanOrEqual(LEASE_MS + LEASE_MS / 3 + 1_000);
      servers = [other];
    });

    it('keeps hot-set keys, which name patients, no longer than 300 s', async () => {
      const [server] = servers;
      if (server === undefined) throw new Error('no server left');
      const patient = await seededPatient(database.db, 't1', 2);
      const token = await signToken(
        { sub: 'lease-test', tenant: 't1', role: 'clinician', doctorId: patient.careTeamDoctorId },
        loadConfig({}).jwt,
      );
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${server.origin}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({
            query:
              'query ($id: ID!) { patient(id: $id) { name records { diagnosis } studies { modality } } }',
            variables: { id: patient.patientId },
          }),
        });
        expect(response.status).toBe(200);
      }
      const keys = await waitFor(
        'hot sets in Redis',
        async () => {
          const found = await scanKeys(`${prefix}:*:hot:*`);
          return found.some((key) => key.endsWith(':hot:Patient')) ? found : undefined;
        },
        10_000,
      );
      for (const key of keys) {
        const ttl = await pTtl(key);
        expect(ttl, key).toBeGreaterThan(0);
        expect(ttl, key).toBeLessThanOrEqual(300_000);
      }
      // Ids only: a member is a uuid, or a patient's uuid and a record's.
      const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
      for (const member of await zMembers(
        keys.find((key) => key.endsWith(':hot:MedicalRecord')) ?? '',
      )) {
        expect(member).toMatch(new RegExp(`^${uuid}/${uuid}$`));
      }
    });

    // Raw Redis, as an operator would look: one server, or every master of the cluster.
    async function withRedis<T>(
      use: (redis: {
        nodes: ScanNode[];
        pTTL: (key: string) => Promise<number>;
        zRange: (key: string) => Promise<string[]>;
      }) => Promise<T>,
    ): Promise<T> {
      if (clusterNodes === undefined) {
        const client = createClient({ url: redisUrl });
        await client.connect();
        try {
          return await use({
            nodes: [client],
            pTTL: (key) => client.pTTL(key),
            zRange: (key) => client.zRange(key, 0, -1),
          });
        } finally {
          await client.close();
        }
      }
      const cluster = createCluster({ rootNodes: clusterNodes.split(',').map((url) => ({ url })) });
      await cluster.connect();
      try {
        const nodes: ScanNode[] = await Promise.all(
          cluster.masters.map((master) => cluster.nodeClient(master)),
        );
        return await use({
          nodes,
          pTTL: (key) => cluster.pTTL(key),
          zRange: (key) => cluster.zRange(key, 0, -1),
        });
      } finally {
        await cluster.close();
      }
    }
    function scanKeys(pattern: string): Promise<string[]> {
      return withRedis(async ({ nodes }) => {
        const keys: string[] = [];
        for (const node of nodes) {
          for await (const batch of node.scanIterator({ MATCH: pattern, COUNT: 1000 })) {
            keys.push(...batch);
          }
        }
        return keys;
      });
    }
    const pTtl = (key: string) => withRedis((redis) => redis.pTTL(key));
    const zMembers = (key: string) => withRedis((redis) => redis.zRange(key));
  },
);
