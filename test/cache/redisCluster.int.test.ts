import slotOf from 'cluster-key-slot';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createRedisClusterStore } from '../../src/cache/redisStore.js';
import { recordChaosRow } from '../support/chaosReport.js';
import { seededPatient } from '../support/fixtures.js';
import { metricValue } from '../support/metricValue.js';
import { startRedisCluster } from '../support/redisCluster.js';
import { storeContract } from '../support/storeContract.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const CHART = /* GraphQL */ `
  query Chart($id: ID!) {
    patient(id: $id) {
      name
      careTeam {
        name
        department {
          name
        }
      }
      records(first: 20) {
        diagnosis
        author {
          name
        }
      }
      studies {
        modality
      }
    }
  }
`;

// A real 3-master cluster of this file's own, on free ports. CI always has redis-server; a
// machine without it skips outside CI only.
const canRun = process.env.CI === 'true' || process.env.REDIS_URL !== undefined;
const cluster = canRun ? await startRedisCluster(3) : undefined;
afterAll(async () => {
  await cluster?.stop();
});

if (cluster !== undefined) {
  storeContract(
    'redis cluster',
    () => createRedisClusterStore({ nodes: cluster.nodes, onError: () => undefined }),
    { fakeTimers: false },
  );
}

describe.runIf(cluster !== undefined)('L2 on a Redis Cluster', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });
  const start = async (env: Record<string, string> = {}) => {
    const server = await startTestServer({
      ...env,
      REDIS_URL: '',
      REDIS_CLUSTER_NODES: cluster?.nodes.join(',') ?? '',
      CACHE_BREAKER_RESET_MS: '500',
    });
    servers.push(server);
    return server;
  };

  it('serves a warm chart from L2 in at most one round trip per node per wave', async () => {
    for (const near of ['3000', '0']) {
      const server = await start({ NEAR_CACHE_TTL_MS: near });
      const registry = server.metrics.registry;
      let [waves, nodeTrips, charts] = [0, 0, 0];
      for (const offset of [11, 13, 14, 15, 16, 17]) {
        const patient = await seededPatient(server.database.db, 't1', offset);
        const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
        const read = () => server.graphql(CHART, { token, variables: { id: patient.patientId } });
        await read();
        await read();
        const [gets, nodes, statements] = [
          await metricValue(registry, 'caregraph_l2_round_trips_total', { op: 'get' }),
          await metricValue(registry, 'caregraph_l2_node_round_trips_total'),
          server.statements(),
        ];
        expect((await read()).body.errors).toBeUndefined();
        // Served from L2 whole: no SQL.
        expect(server.statements() - statements).toBe(0);
        const chartWaves =
          (await metricValue(registry, 'caregraph_l2_round_trips_total', { op: 'get' })) - gets;
        const chartTrips =
          (await metricValue(registry, 'caregraph_l2_node_round_trips_total')) - nodes;
        expect(chartWaves).toBeGreaterThan(0);
        // Each L2 read (one per DataLoader wave) went to at most the three nodes, once each.
        expect(chartTrips).toBeLessThanOrEqual(chartWaves * 3);
        [waves, nodeTrips, charts] = [waves + chartWaves, nodeTrips + chartTrips, charts + 1];
      }
      process.stdout.write(
        `warm chart on a 3-master cluster, near cache ${near === '0' ? 'off' : 'on'}: ` +
          `${(waves / charts).toFixed(1)} L2 reads (waves) and ${(nodeTrips / charts).toFixed(1)} ` +
          `node round trips per chart, over ${charts} patients\n`,
      );
    }
  });

  it('answers every read from Postgres when a master is killed, and serves from L2 again after', async () => {
    // Production's reply deadline: what a killed master costs a read is part of the test.
    const server = await start({ REDIS_COMMAND_TIMEOUT_MS: '50' });
    const patient = await seededPatient(server.database.db, 't1', 12);
    const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    const read = () => server.graphql(CHART, { token, variables: { id: patient.patientId } });
    await read();
    expect((await read()).body.errors).toBeUndefined();
    const registry = server.metrics.registry;
    const errors = () => metricValue(registry, 'caregraph_redis_errors_total');
    const hits = () =>
      metricValue(registry, 'caregraph_cache_requests_total', { layer: 'l2', result: 'hit' });
    const errorsBefore = await errors();
    // The master of the tenant's slot, which every request reads its generation from.
    const node = cluster?.nodeOfSlot(slotOf('{t1}')) ?? 0;
    await cluster?.killNode(node);
    const answers = [];
    for (let round = 0; round < 10; round++) {
      answers.push(...(await Promise.all([read(), read(), read()])));
    }
    const failed = answers.filter(
      (a) => a.status !== 200 || a.body.errors !== undefined || a.body.data?.patient == null,
    );
    expect(failed).toEqual([]);
    // The fault was felt: L2 refused, and the reads went to Postgres.
    expect(await errors()).toBeGreaterThan(errorsBefore);
    await cluster?.restartNode(node);
    const healedAt = Date.now();
    let recoveryMs: number | null = null;
    for (let attempt = 0; attempt < 100 && recoveryMs === null; attempt++) {
      const before = await hits();
      await read();
      if ((await hits()) > before) recoveryMs = Date.now() - healedAt;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(recoveryMs).not.toBeNull();
    recordChaosRow(inject('chaosReportDir'), {
      scenario: 'cluster master killed, restarted',
      reads: answers.length,
      failedReads: failed.length,
      staleReads: 0,
      lastStaleMs: 0,
      unauditedPhi: 0,
      recoveryMs,
    });
  });
});
