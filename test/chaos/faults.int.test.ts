import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { recordChaosRow, type ChaosRow } from '../support/chaosReport.js';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { freePort, redisProcess, type RedisProcess } from '../support/redisServer.js';
import { spawnServer, type SpawnedServer } from '../support/spawnServer.js';
import { tcpProxy, type TcpProxy } from '../support/tcpProxy.js';
import { createTestDatabase } from '../support/testDatabase.js';

const CHART = /* GraphQL */ `
  query Chart($id: ID!) {
    patient(id: $id) {
      id
      name
      careTeam {
        name
      }
      records(first: 5) {
        diagnosis
      }
      studies {
        modality
      }
    }
  }
`;
const REVOKE = /* GraphQL */ `
  mutation ($id: ID!) {
    setConsent(patientId: $id, granted: false) {
      id
    }
  }
`;
const RENAME = /* GraphQL */ `
  mutation ($id: ID!, $n: String!) {
    updatePatient(id: $id, input: { name: $n }) {
      id
    }
  }
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const run = inject('postgresRun');
const jwt = loadConfig({}).jwt;

interface Read {
  readonly server: 'a' | 'b';
  readonly patientId: string;
  readonly requestId: string;
  readonly startedAt: number;
  readonly status: number;
  readonly name: string | undefined;
  readonly codes: ReadonlyArray<string>;
}

/** One GraphQL chart read, with its own request id so that its audit rows can be found. */
async function readChart(
  server: SpawnedServer,
  label: 'a' | 'b',
  token: string,
  patientId: string,
): Promise<Read> {
  const requestId = randomUUID();
  const startedAt = Date.now();
  try {
    const response = await fetch(`${server.origin}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        'x-request-id': requestId,
      },
      body: JSON.stringify({ query: CHART, variables: { id: patientId } }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as {
      data?: { patient?: { name?: string } | null } | null;
      errors?: Array<{ extensions?: { code?: string } }>;
    };
    return {
      server: label,
      patientId,
      requestId,
      startedAt,
      status: response.status,
      name: body.data?.patient?.name,
      codes: (body.errors ?? []).map((e) => e.extensions?.code ?? 'none'),
    };
  } catch {
    return {
      server: label,
      patientId,
      requestId,
      startedAt,
      status: 0,
      name: undefined,
      codes: [],
    };
  }
}

/** The L2 hits a server has counted, from its own /metrics. */
async function l2Hits(server: SpawnedServer): Promise<number> {
  const text = await (await fetch(`${server.origin}/metrics`)).text();
  let hits = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('caregraph_cache_requests_total{') && line.includes('layer="l2"')) {
      if (line.includes('result="hit"')) hits += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return hits;
}

interface Scenario {
  readonly name: string;
  /** The write A makes while the fault lasts. */
  readonly write: 'revoke' | 'rename';
  /** B reaches Postgres through a proxy the fault cuts. */
  readonly bThroughProxy?: boolean;
  fault(env: FaultEnv): Promise<void>;
  heal(env: FaultEnv): Promise<void>;
}

interface FaultEnv {
  readonly redis: RedisProcess;
  readonly redisPort: number;
  readonly proxy: TcpProxy;
}

// Each scenario runs two server processes (A writes, both read) on a redis-server of its own
// and one Postgres; B may reach Postgres through a proxy that the fault cuts. Readers hammer
// both while the fault lasts; A makes one write during it. The figures: reads that failed
// where Postgres was up, reads that served the replaced value on either instance more than 1 s
// after the write committed, PHI served without its audit row, and how long after the fault
// ended L2 served hits again, with no restart.
describe.runIf(run !== null)('faults under load (chaos)', () => {
  let database: DatabaseHandle & { url: string | undefined };
  let owner: postgres.Sql;
  let patients: SeededPatient[];
  const rows: ChaosRow[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    owner = postgres(database.url ?? '', { max: 1, onnotice: () => undefined });
    patients = await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => seededPatient(database.db, 't1', i)),
    );
  }, 60_000);
  afterAll(async () => {
    await owner.end();
    await database.close();
  });

  let used = 0;
  async function runScenario(scenario: Scenario): Promise<ChaosRow> {
    // Two patients of its own: one is written, the other probes recovery.
    const [target, probe] = [patients[used++], patients[used++]] as [SeededPatient, SeededPatient];
    const redisPort = await freePort();
    const redis = redisProcess(redisPort);
    await redis.start();
    const pgUrl = new URL(database.url ?? '');
    const proxy = await tcpProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    const proxied = new URL(pgUrl);
    proxied.port = String(proxy.port);
    const env = {
      REDIS_URL: redis.url,
      CACHE_KEY_PREFIX: `chaos${randomBytes(4).toString('hex')}`,
      CACHE_BREAKER_RESET_MS: '1000',
    };
    const [a, b] = await Promise.all([
      spawnServer({ ...env, DATABASE_URL: database.url ?? '' }),
      spawnServer({
        ...env,
        DATABASE_URL: scenario.bThroughProxy === true ? proxied.toString() : (database.url ?? ''),
      }),
    ]);
    const faultEnv: FaultEnv = { redis, redisPort, proxy };
    try {
      const tokens = new Map<string, string>();
      for (const p of [target, probe]) {
        tokens.set(
          p.patientId,
          await signToken(
            {
              sub: `c-${p.patientId}`,
              tenant: 't1',
              role: 'clinician',
              doctorId: p.careTeamDoctorId,
            },
            jwt,
          ),
        );
      }
      const frontdesk = await signToken({ sub: 'f', tenant: 't1', role: 'frontdesk' }, jwt);
      const servers = { a, b };
      const [original] = await owner<{ name: string }[]>`
        select name from patients where id = ${target.patientId}`;
      // Warm: both instances have both charts in L2.
      for (let i = 0; i < 3; i++) {
        for (const label of ['a', 'b'] as const) {
          for (const p of [target, probe]) {
            await readChart(servers[label], label, tokens.get(p.patientId) ?? '', p.patientId);
          }
        }
      }

      const reads: Read[] = [];
      let loading = true;
      const reader = async (label: 'a' | 'b', p: SeededPatient) => {
        while (loading) {
          reads.push(
            await readChart(servers[label], label, tokens.get(p.patientId) ?? '', p.patientId),
          );
          await sleep(20);
        }
      };
      const readers = (['a', 'b'] as const).flatMap((label) =>
        [target, probe].map((p) => reader(label, p)),
      );
      await sleep(800);
      await scenario.fault(faultEnv);
      const faultAt = Date.now();
      await sleep(700);
      const renamed = `Chaos ${randomBytes(3).toString('hex')}`;
      const write = await fetch(`${a.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${frontdesk}` },
        body: JSON.stringify(
          scenario.write === 'revoke'
            ? { query: REVOKE, variables: { id: target.patientId } }
            : { query: RENAME, variables: { id: target.patientId, n: renamed } },
        ),
      });
      const written = (await write.json()) as {
        errors?: Array<{ extensions?: { code?: string } }>;
      };
      expect(write.status).toBe(200);
      expect(
        (written.errors ?? []).every((e) => e.extensions?.code === 'CACHE_INVALIDATION_DELAYED'),
      ).toBe(true);
      // The commit's time as Postgres saw it: the write's transaction began no later.
      const [published] = await owner<{ at: Date }[]>`
        select max(committed_at) as at from cache_invalidations where scopes @> ${[
          `patient:${target.patientId}`,
        ]}::text[]`;
      const committedAt = published?.at.getTime() ?? Date.now();
      await sleep(Math.max(0, faultAt + 3_500 - Date.now()));
      await scenario.heal(faultEnv);
      const healedAt = Date.now();
      // Recovery, with the readers still going: both instances say ready again, and then serve
      // the probe's chart from L2, with no restart.
      let recoveryMs: number | null = null;
      for (let attempt = 0; attempt < 150 && recoveryMs === null; attempt++) {
        const ready = await Promise.all(
          [a, b].map(async (server) => {
            const answer = await fetch(`${server.origin}/readyz`).catch(() => undefined);
            return ((await answer?.json()) as { status?: string } | undefined)?.status === 'ready';
          }),
        );
        if (ready.every(Boolean)) {
          const hits = [];
          for (const label of ['a', 'b'] as const) {
            const before = await l2Hits(servers[label]);
            await readChart(
              servers[label],
              label,
              tokens.get(probe.patientId) ?? '',
              probe.patientId,
            );
            hits.push((await l2Hits(servers[label])) > before);
          }
          if (hits.every(Boolean)) recoveryMs = Date.now() - healedAt;
        }
        if (recoveryMs === null) await sleep(100);
      }
      await sleep(Math.max(0, healedAt + 2_000 - Date.now()));
      loading = false;
      await Promise.all(readers);

      const postgresUp = (r: Read) =>
        !(scenario.bThroughProxy === true && r.server === 'b' && r.startedAt >= faultAt - 100);
      const failed = reads.filter(
        (r) =>
          postgresUp(r) &&
          (r.status !== 200 ||
            r.codes.some((c) => c !== 'FORBIDDEN') ||
            // Only the revoked chart may be refused, and only once consent is withheld.
            (r.codes.includes('FORBIDDEN') && r.patientId !== target.patientId)),
      );
      const stale = reads.filter(
        (r) =>
          r.patientId === target.patientId &&
          r.startedAt > committedAt + 1_000 &&
          (scenario.write === 'revoke' ? r.name !== undefined : r.name === original?.name),
      );
      const served = reads.filter((r) => r.name !== undefined).map((r) => r.requestId);
      const audited = await owner<{ request_id: string }[]>`
        select distinct request_id from audit_events
        where request_id = any(${served}::text[]) and action = 'read' and outcome = 'allowed'`;
      const row: ChaosRow = {
        scenario: scenario.name,
        reads: reads.length,
        failedReads: failed.length,
        staleReads: stale.length,
        lastStaleMs:
          stale.length === 0 ? 0 : Math.max(...stale.map((r) => r.startedAt - committedAt)),
        unauditedPhi: served.length - audited.length,
        recoveryMs,
      };
      rows.push(row);
      recordChaosRow(inject('chaosReportDir'), row);
      return row;
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await proxy.close();
      await redis.kill();
    }
  }

  const expectHeld = (row: ChaosRow) => {
    expect(row.reads).toBeGreaterThan(50);
    expect(row.failedReads).toBe(0);
    expect(row.staleReads).toBe(0);
    expect(row.unauditedPhi).toBe(0);
    expect(row.recoveryMs).not.toBeNull();
  };

  it('read-only Redis during a consent revocation', async () => {
    const row = await runScenario({
      name: 'read-only Redis during a revocation',
      write: 'revoke',
      // A replica of a host that is not there: reads answer, every write is refused.
      fault: async ({ redisPort }) => {
        await redisCli(redisPort, 'REPLICAOF', '127.0.0.1', String(await freePort()));
      },
      heal: async ({ redisPort }) => {
        await redisCli(redisPort, 'REPLICAOF', 'NO', 'ONE');
      },
    });
    expectHeld(row);
  }, 90_000);

  it('Redis frozen (SIGSTOP) during a consent revocation', async () => {
    const row = await runScenario({
      name: 'Redis SIGSTOP during a revocation',
      write: 'revoke',
      fault: ({ redis }) => {
        redis.signal('SIGSTOP');
        return Promise.resolve();
      },
      heal: ({ redis }) => {
        redis.signal('SIGCONT');
        return Promise.resolve();
      },
    });
    expectHeld(row);
  }, 90_000);

  it('Redis killed (SIGKILL) mid-load, then restarted empty', async () => {
    const row = await runScenario({
      name: 'Redis SIGKILL mid-load, restarted',
      write: 'rename',
      fault: async ({ redis }) => {
        await redis.kill();
      },
      heal: async ({ redis }) => {
        await redis.start();
      },
    });
    expectHeld(row);
  }, 90_000);

  it('Postgres unreachable from a server whose L2 is warm', async () => {
    const row = await runScenario({
      name: 'Postgres unreachable, warm L2',
      write: 'revoke',
      bThroughProxy: true,
      fault: ({ proxy }) => {
        proxy.cut();
        return Promise.resolve();
      },
      heal: ({ proxy }) => {
        proxy.restore();
        return Promise.resolve();
      },
    });
    expectHeld(row);
  }, 90_000);
});

/** One redis-cli command against a test's own server. */
async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('redis-cli', ['-p', String(port), ...args]);
  return stdout.trim();
}
