import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { socketOwner } from '../support/socketOwner.js';
import { spawnServer, type SpawnedServer } from '../support/spawnServer.js';
import { createTestDatabase } from '../support/testDatabase.js';

const shared = inject('postgresRun') !== null;

const CHART = `query Chart($id: ID!) { patient(id: $id) { id name records { id recordedAt } } }`;

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One request on a connection of its own, kept open until `close()`, so its owner is known. */
interface Exchange {
  /** The client's port of the connection, once it is connected. */
  readonly clientPort: Promise<number>;
  readonly answer: Promise<Answer>;
  close(): void;
}

function exchange(
  origin: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Exchange {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let clientPort!: Promise<number>;
  const answer = new Promise<Answer>((resolve, reject) => {
    const sent = request(
      new URL(path, origin),
      { method: options.body === undefined ? 'GET' : 'POST', headers: options.headers, agent },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body });
        });
      },
    );
    clientPort = new Promise((connected) => {
      sent.on('socket', (socket) => {
        socket.once('connect', () => {
          connected(socket.localPort ?? 0);
        });
      });
    });
    sent.on('error', reject);
    sent.end(options.body);
  });
  return {
    clientPort,
    answer,
    close: () => {
      agent.destroy();
    },
  };
}

/** The pids of the `worker started` lines so far, in order. */
function workerPids(output: string): number[] {
  return [...output.matchAll(/"pid":(\d+),"slot":\d+,"msg":"worker started"/g)].map((m) =>
    Number(m[1]),
  );
}

/** The sum of a metric's samples in Prometheus text whose labels include every `labels`. */
function sampleSum(text: string, name: string, labels: ReadonlyArray<string>): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && labels.every((l) => line.includes(l)))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// WEB_CONCURRENCY=2 on the run's Postgres: one port, two worker processes, one /metrics.
describe.runIf(shared)('WEB_CONCURRENCY workers', () => {
  let database: DatabaseHandle & { url: string | undefined };
  let server: SpawnedServer;
  let port: number;
  let patient: SeededPatient;
  let owner: postgres.Sql;
  let headers: Record<string, string>;
  const jwt = loadConfig({}).jwt;

  /** Sends `path` on `count` fresh connections; answers with the pid that held each one. */
  async function sendSpread(
    count: number,
    path: string,
    options: { headers?: Record<string, string>; body?: string } = {},
  ): Promise<Array<Answer & { pid: number | undefined }>> {
    const exchanges = Array.from({ length: count }, () => exchange(server.origin, path, options));
    try {
      return await Promise.all(
        exchanges.map(async (e) => {
          const answer = await e.answer;
          const pid = socketOwner(port, await e.clientPort, workerPids(server.output()));
          return { ...answer, pid };
        }),
      );
    } finally {
      for (const e of exchanges) e.close();
    }
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    patient = await seededPatient(database.db, 't1', 1);
    owner = postgres(database.url ?? '', { max: 2, onnotice: () => undefined });
    const token = await signToken(
      { sub: 'workers-1', tenant: 't1', role: 'clinician', doctorId: patient.careTeamDoctorId },
      jwt,
    );
    headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    server = await spawnServer(
      {
        DATABASE_URL: database.url ?? '',
        CACHE_KEY_PREFIX: `wk${randomBytes(4).toString('hex')}`,
        WEB_CONCURRENCY: '2',
        SHUTDOWN_TIMEOUT_MS: '20000',
      },
      2,
    );
    port = Number(new URL(server.origin).port);
  }, 120_000);
  afterAll(async () => {
    await server.stop();
    await owner.end();
    await database.close();
  });

  it('answers requests from two worker processes on one port', async () => {
    const pids = workerPids(server.output());
    expect(pids).toHaveLength(2);
    expect(new Set(pids).size).toBe(2);
    const body = JSON.stringify({ query: CHART, variables: { id: patient.patientId } });
    const answers = await sendSpread(6, '/graphql', { headers, body });
    for (const a of answers) expect(a.status, a.body).toBe(200);
    expect(new Set(answers.map((a) => a.pid))).toEqual(new Set(pids));
  });

  it('answers /metrics with the sum over both workers, whichever worker is asked', async () => {
    const before = await sendSpread(1, '/metrics');
    const counted = (text: string) =>
      sampleSum(text, 'caregraph_http_request_duration_seconds_count', [
        'route="/graphql"',
        'status_code="200"',
      ]);
    const start = counted(before[0]?.body ?? '');
    const body = JSON.stringify({ query: CHART, variables: { id: patient.patientId } });
    const answers = await sendSpread(8, '/graphql', { headers, body });
    expect(new Set(answers.map((a) => a.pid)).size).toBe(2);
    const scrapes = await sendSpread(4, '/metrics');
    expect(new Set(scrapes.map((s) => s.pid)).size).toBe(2);
    for (const scrape of scrapes) {
      expect(scrape.status).toBe(200);
      expect(counted(scrape.body)).toBe(start + 8);
      // Gauges are not summed: the worst breaker state, and the feed up only if up everywhere.
      expect(scrape.body).toMatch(/^caregraph_cache_breaker_state 0$/m);
      expect(scrape.body).toMatch(/^caregraph_cache_invalidation_feed_up 1$/m);
    }
  });

  it('replaces a worker that is killed', async () => {
    const [killed, kept] = workerPids(server.output());
    process.kill(killed ?? 0, 'SIGKILL');
    await waitFor(() => workerPids(server.output()).length === 3, 'a third worker');
    const replacement = workerPids(server.output())[2];
    await waitFor(
      () => server.output().includes(`"pid":${String(replacement)},"msg":"Server listening`),
      'the replacement to listen',
    );
    expect(server.output()).toMatch(/"signal":"SIGKILL","restartInMs":\d+,"msg":"worker exited/);
    const answers = await sendSpread(4, '/healthz');
    expect(new Set(answers.map((a) => a.pid))).toEqual(new Set([kept, replacement]));
  }, 90_000);

  it('drains the requests in flight on every worker on SIGTERM, then exits 0', async () => {
    const requestIds = Array.from({ length: 6 }, () => `workers-${randomBytes(4).toString('hex')}`);
    const exited = once(server.child, 'exit');
    const body = JSON.stringify({ query: CHART, variables: { id: patient.patientId } });
    const exchanges: Exchange[] = [];
    // The audit table is locked: every request gets as far as its commit, and waits there.
    await owner.begin(async (tx) => {
      await tx`lock table audit_events in exclusive mode`;
      for (const id of requestIds) {
        exchanges.push(
          exchange(server.origin, '/graphql', {
            headers: { ...headers, 'x-request-id': id },
            body,
          }),
        );
      }
      let waiting = 0;
      // Audit commits are grouped, so fewer statements than requests may wait: one per worker.
      for (let i = 0; i < 400 && waiting < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        const [row] = await owner<Array<{ n: number }>>`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`;
        waiting = row?.n ?? 0;
      }
      // Both workers hold some of the blocked requests.
      const pids = workerPids(server.output()).slice(-2);
      const holders = await Promise.all(
        exchanges.map(async (e) => socketOwner(port, await e.clientPort, pids)),
      );
      expect(new Set(holders)).toEqual(new Set(pids));
      server.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(server.child.exitCode, server.output()).toBeNull();
    });
    const answers = await Promise.all(exchanges.map((e) => e.answer));
    for (const e of exchanges) e.close();
    for (const a of answers) {
      expect(a.status, a.body).toBe(200);
      expect((JSON.parse(a.body) as { errors?: unknown }).errors).toBeUndefined();
    }
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(server.output()).toMatch(/"msg":"draining every worker"/);
    const rows = await owner<Array<{ request_id: string }>>`
      select distinct request_id from audit_events where request_id in ${owner(requestIds)}`;
    expect(rows.map((r) => r.request_id).sort()).toEqual([...requestIds].sort());
  }, 90_000);
});
