import { createClient } from '@keyv/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricValue } from '../support/metricValue.js';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { freePort, redisProcess, type RedisProcess } from '../support/redisServer.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// This needs a redis-server binary to start, stop and start again; CI has one.
describe.runIf(process.env.REDIS_URL !== undefined)('a Redis outage', () => {
  let redis: RedisProcess;
  let server: TestServer;
  let patient: SeededPatient;
  let clinician: string;

  beforeAll(async () => {
    redis = redisProcess(await freePort());
    await redis.start();
    server = await startTestServer({
      REDIS_URL: redis.url,
      REDIS_COMMAND_TIMEOUT_MS: '50',
      CACHE_BREAKER_RESET_MS: '300',
    });
    patient = await seededPatient(server.database.db, 't1', 4);
    clinician = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
  });
  afterAll(async () => {
    await server.close();
    await redis.kill();
  });

  async function readName() {
    const started = performance.now();
    const statements = server.statements();
    const response = await server.graphql('query ($id: ID!) { patient(id: $id) { name } }', {
      token: clinician,
      variables: { id: patient.patientId },
    });
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    return {
      name: (response.body.data?.patient as { name: string }).name,
      ms: performance.now() - started,
      statements: server.statements() - statements,
    };
  }

  async function rename(name: string) {
    const frontdesk = await server.token({ role: 'frontdesk' });
    const response = await server.graphql(
      'mutation ($id: ID!, $n: String!) { updatePatient(id: $id, input: { name: $n }) { name } }',
      {
        token: frontdesk,
        variables: { id: patient.patientId, n: name },
      },
    );
    expect(response.body.data?.updatePatient).toEqual({ name });
    return response.body.errors?.map((error) => error.extensions?.code) ?? [];
  }

  it('serves from Postgres within a bounded time while Redis hangs, and flushes L2 before trusting it again', async () => {
    expect(await rename('Before The Outage')).toEqual([]);
    const epochs = await metricValue(server.metrics.registry, 'caregraph_cache_epoch_bumps_total');
    await readName();
    expect((await readName()).statements).toBe(0);

    // Redis stops answering for 1.5 s, with the stale entry still in it.
    const admin = createClient({ url: redis.url });
    await admin.connect();
    const sleeping = admin.sendCommand(['DEBUG', 'SLEEP', '1.5']);
    await sleep(50);

    // The write commits; its invalidation cannot reach Redis, and the response says so.
    expect(await rename('During The Outage')).toEqual(['CACHE_INVALIDATION_DELAYED']);
    const during = await readName();
    expect(during.name).toBe('During The Outage');
    expect(during.ms).toBeLessThan(1000);
    expect(
      await metricValue(server.metrics.registry, 'caregraph_redis_errors_total'),
    ).toBeGreaterThan(0);

    await sleeping;
    await admin.quit();
    await sleep(400);

    // The stale "Before The Outage" entry is still in Redis, under a generation that was never
    // advanced; the epoch bump on recovery makes it unreadable.
    expect((await readName()).name).toBe('During The Outage');
    expect(await metricValue(server.metrics.registry, 'caregraph_cache_epoch_bumps_total')).toBe(
      epochs + 1,
    );
    // And L2 serves again.
    expect((await readName()).statements).toBe(0);
  });

  it('keeps serving while Redis is down, opens the breaker, and uses Redis again once it is back', async () => {
    await readName();
    await redis.kill();
    // Every read succeeds within a bounded time, and failures soon open the breaker.
    const breakerState = () =>
      metricValue(server.metrics.registry, 'caregraph_cache_breaker_state');
    for (let attempt = 0; attempt < 30 && (await breakerState()) !== 2; attempt++) {
      expect((await readName()).ms).toBeLessThan(1000);
    }
    expect(await breakerState()).toBe(2);
    expect((await readName()).ms).toBeLessThan(100);
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as {
      status: string;
      checks: Record<string, string>;
    };
    expect(ready).toEqual({
      status: 'degraded',
      checks: { database: 'up', cache: 'degraded', invalidations: 'up' },
    });

    await redis.start();
    // The breaker probes after its reset time and the client reconnects by itself.
    let statements = Number.POSITIVE_INFINITY;
    for (let attempt = 0; attempt < 40 && statements > 0; attempt++) {
      await sleep(150);
      await readName();
      statements = (await readName()).statements;
    }
    expect(statements).toBe(0);
    expect(await metricValue(server.metrics.registry, 'caregraph_cache_breaker_state')).toBe(0);
  });
});
