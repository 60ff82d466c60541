import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../support/redisServer.js';
import { spawnServer, type SpawnedServer } from '../support/spawnServer.js';
import { createTestDatabase } from '../support/testDatabase.js';
import { waitFor } from '../support/waitFor.js';

const run = inject('postgresRun');

/** A request on a connection of its own, so that each one may land on another worker. */
function fresh(url: string): Promise<Response> {
  return fetch(url, { headers: { connection: 'close' } });
}

/** The `_count` of /healthz requests answered 200, from Prometheus text. */
function healthzCount(text: string): number {
  return text
    .split('\n')
    .filter(
      (line) =>
        line.startsWith('caregraph_http_request_duration_seconds_count{') &&
        line.includes('route="/healthz"') &&
        line.includes('status_code="200"'),
    )
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

/** Starts main.ts with METRICS_PORT, and resolves once `workers` metrics listeners listen. */
async function start(env: Record<string, string>, workers = 1) {
  const metricsPort = await freePort();
  const server = await spawnServer(
    {
      METRICS_PORT: String(metricsPort),
      CACHE_KEY_PREFIX: `mp${randomBytes(4).toString('hex')}`,
      ...env,
    },
    workers,
  );
  const announced = `Metrics listening at http://127.0.0.1:${String(metricsPort)}`;
  await waitFor(
    'the metrics listener',
    () => server.output().split(announced).length > workers,
    60_000,
  );
  return { server, metrics: `http://127.0.0.1:${String(metricsPort)}` };
}

/** Stops the server; resolves with its exit code. */
async function stop(server: SpawnedServer): Promise<number | null> {
  if (server.child.exitCode !== null) return server.child.exitCode;
  const exited = once(server.child, 'exit');
  await server.stop();
  await exited.catch(() => undefined);
  return server.child.exitCode;
}

describe('METRICS_PORT in one process', () => {
  let server: SpawnedServer;
  let metrics: string;
  beforeAll(async () => {
    const databaseUrl = run === null ? undefined : (await createTestDatabase()).url;
    ({ server, metrics } = await start(
      databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl },
    ));
  }, 120_000);
  afterAll(async () => {
    await stop(server);
  });

  it('serves /metrics on its own port, from the same registry as the API', async () => {
    const before = healthzCount(await (await fresh(`${metrics}/metrics`)).text());
    for (let i = 0; i < 3; i++) expect((await fresh(`${server.origin}/healthz`)).status).toBe(200);
    const response = await fresh(`${metrics}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('# TYPE caregraph_http_request_duration_seconds histogram');
    expect(healthzCount(text)).toBe(before + 3);
  });

  it('answers /metrics 404 on the public port', async () => {
    const response = await fresh(`${server.origin}/metrics`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]?.extensions.code).toBe('NOT_FOUND');
  });

  it('serves nothing but /metrics on its own port', async () => {
    expect((await fresh(`${metrics}/graphql`)).status).toBe(404);
    expect((await fresh(`${metrics}/healthz`)).status).toBe(404);
  });

  it('stops listening when the server shuts down', async () => {
    expect(await stop(server)).toBe(0);
    await expect(fresh(`${metrics}/metrics`)).rejects.toThrow();
  });
});

// Two workers on the run's Postgres: both listen on METRICS_PORT through node:cluster.
describe.runIf(run !== null)('METRICS_PORT under WEB_CONCURRENCY', () => {
  let server: SpawnedServer;
  let metrics: string;
  beforeAll(async () => {
    const database = await createTestDatabase();
    await database.close();
    ({ server, metrics } = await start(
      { DATABASE_URL: database.url ?? '', WEB_CONCURRENCY: '2', SHUTDOWN_TIMEOUT_MS: '20000' },
      2,
    ));
  }, 120_000);
  afterAll(async () => {
    await stop(server);
  });

  it('has every worker listen on the one metrics port', () => {
    expect(server.output()).not.toContain('EADDRINUSE');
    expect(server.output()).not.toContain('worker exited unexpectedly');
  });

  it('answers the sum over the workers on every scrape', async () => {
    const before = healthzCount(await (await fresh(`${metrics}/metrics`)).text());
    for (let i = 0; i < 6; i++) expect((await fresh(`${server.origin}/healthz`)).status).toBe(200);
    for (let i = 0; i < 4; i++) {
      const response = await fresh(`${metrics}/metrics`);
      expect(response.status).toBe(200);
      expect(healthzCount(await response.text())).toBe(before + 6);
    }
    expect((await fresh(`${server.origin}/metrics`)).status).toBe(404);
  });

  it('stops listening when every worker has drained', async () => {
    expect(await stop(server)).toBe(0);
    await expect(fresh(`${metrics}/metrics`)).rejects.toThrow();
  });
});
