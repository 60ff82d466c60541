/**
 * `npm run bench`: caregraph side by side with its baselines and its peer, in one run, on the
 * same seeded data and the same request stream. Writes bench/results/latest.{json,md} and
 * chart.svg. `-- --quick` runs every mode briefly, to prove the bench works; its figures are
 * not for comparison.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createDatabase } from '../src/db/client.js';
import { seedDatabase } from '../src/db/seed.js';
import {
  benchServices,
  connectRedis,
  describeCommit,
  describeMachine,
  recreateDatabase,
  type RedisProbe,
} from './environment.js';
import { manifestIdsByName, toHttpRequest } from './load.js';
import { measurePhase, probeRequest, type PhaseResult } from './measurePhase.js';
import { planModes, type ModePlan, type Segment } from './phases.js';
import { writeReport, type BenchReport, type ChartProbes } from './report.js';
import { spawnBenchServer, type BenchServer } from './servers/spawnBenchServer.js';
import { buildWorkload, MIX, type Workload, type WorkloadRequest } from './workload.js';

const RESULTS_DIR = fileURLToPath(new URL('./results', import.meta.url));

function readOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      patients: { type: 'string' },
      seconds: { type: 'string' },
      'warm-up': { type: 'string' },
      connections: { type: 'string', default: '16' },
      seed: { type: 'string', default: '42' },
      out: { type: 'string', default: RESULTS_DIR },
    },
  });
  const number = (value: string | undefined, fallback: number, name: string) => {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const quick = values.quick;
  const patients = number(values.patients, quick ? 2_000 : 20_000, 'patients');
  return {
    quick,
    patients,
    // Enough clinicians that about 2,000 distinct users open charts at full size.
    doctorsPerTenant: Math.max(60, Math.round(patients / 20)),
    seconds: number(values.seconds, quick ? 3 : 20, 'seconds'),
    warmUpSeconds: number(values['warm-up'], quick ? 2 : 10, 'warm-up'),
    connections: number(values.connections, 16, 'connections'),
    seed: number(values.seed, 42, 'seed'),
    streamLength: quick ? 20_000 : 200_000,
    out: values.out,
  };
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const options = readOptions();
  const services = benchServices(process.env);
  const redis = await connectRedis(services.redisUrl);
  const work = mkdtempSync(join(tmpdir(), 'caregraph-bench-'));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  try {
    log(`bench: seeding ${options.patients} patients into a fresh database`);
    await recreateDatabase(services);
    const database = await createDatabase({ url: services.databaseUrl, poolMax: 4 });
    const jwt = {
      secret: new TextEncoder().encode(randomBytes(32).toString('hex')),
      issuer: undefined,
      audience: undefined,
    };
    let workload: Workload;
    try {
      await database.migrate();
      const seeded = await seedDatabase(database.db, {
        patients: options.patients,
        doctorsPerTenant: options.doctorsPerTenant,
        seed: options.seed,
      });
      log(`bench: seeded ${JSON.stringify(seeded)}`);
      workload = await buildWorkload(database.db, {
        seed: options.seed,
        length: options.streamLength,
        jwt,
      });
    } finally {
      await database.close();
    }
    const workloadPath = join(work, 'workload.json');
    writeFileSync(workloadPath, JSON.stringify(workload));
    log(
      `bench: workload of ${workload.requests.length} requests, users ${JSON.stringify(workload.users)}`,
    );

    const env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: services.databaseUrl,
      REDIS_URL: services.redisUrl,
      JWT_SECRET: new TextDecoder().decode(jwt.secret),
      CACHE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    };
    const phases: PhaseResult[] = [];
    const probes: Partial<Record<keyof ChartProbes, number>> = {};
    const memory: BenchReport['redisBytesPer1000Patients'] = {};
    const probe = workload.requests.find(
      (r, i) => i >= workload.requests.length / 2 && r.kind === 'chart',
    );
    if (probe === undefined) throw new Error('the workload has no chart request to probe');

    for (const plan of planModes(options.seconds, options.warmUpSeconds)) {
      if (plan.flushRedis) await redis.flush();
      const baselineBytes = await redis.usedMemoryBytes();
      const server = await spawnBenchServer(plan.mode, env);
      try {
        await preflight(server, workload);
        const played: Array<{ start: number; count: number }> = [];
        for (const phase of plan.phases) {
          const start = segmentStart(workload, phase.segment);
          const spec = {
            url: `${server.origin}/graphql`,
            workloadPath,
            start,
            durationSeconds: phase.seconds,
            connections: options.connections,
          };
          const result = await measurePhase(
            server,
            redis,
            phase.id ?? 'warm-up',
            phase.segment,
            spec,
            join(work, 'spec.json'),
          );
          played.push({ start, count: result.load.requests });
          if (phase.id === undefined) continue;
          phases.push(result);
          log(
            `bench: ${phase.id.padEnd(20)} ${result.load.requestsPerSecond.toFixed(0).padStart(6)} req/s, ` +
              `p95 ${result.load.latencyMs.p95.toFixed(1)} ms, SQL/req ${result.sqlPerRequest.toFixed(2)}, ` +
              `L2 hit ${formatRate(result.hitRate.l2)}, response-cache hit ${formatRate(result.hitRate.responseCache)}`,
          );
        }
        await probeMode(plan, server, workload, probe, probes);
        await measureMemory(plan, redis, baselineBytes, workload, played, memory);
      } finally {
        await server.stop();
      }
    }

    const report: BenchReport = {
      generatedAt: new Date().toISOString(),
      commit: describeCommit(),
      quick: options.quick,
      machine: await describeMachine(services, redis),
      options: {
        patients: options.patients,
        doctorsPerTenant: options.doctorsPerTenant,
        seconds: options.seconds,
        warmUpSeconds: options.warmUpSeconds,
        connections: options.connections,
        seed: options.seed,
      },
      workload: { requests: workload.requests.length, users: workload.users, mix: { ...MIX } },
      phases,
      probes: {
        n1ChartSql: probes.n1ChartSql ?? NaN,
        loaderChartSql: probes.loaderChartSql ?? NaN,
        warmChartSql: probes.warmChartSql ?? NaN,
        warmChartRoundTrips: probes.warmChartRoundTrips ?? NaN,
        warmChartAuditStatements: probes.warmChartAuditStatements ?? NaN,
      },
      redisBytesPer1000Patients: memory,
      durationSeconds: (Date.now() - startedAt) / 1000,
    };
    const { ratios } = writeReport(options.out, report);
    log(`bench: report written to ${options.out} in ${report.durationSeconds.toFixed(0)} s`);
    for (const r of ratios) {
      const value = r.measured === undefined ? '–' : `${r.measured.toFixed(2)}${r.unit}`;
      log(`  ${r.name}: ${value} (target ${r.target})${r.met === false ? '  MISSED' : ''}`);
    }
  } finally {
    await redis.close();
    rmSync(work, { recursive: true, force: true });
  }
}

function segmentStart(workload: Workload, segment: Segment): number {
  return segment === 'A' ? 0 : Math.floor(workload.requests.length / 2);
}

/**
 * Sends the first request of each operation once and insists on a clean answer, so a broken
 * mode fails the bench loudly instead of measuring how fast it returns errors.
 */
async function preflight(server: BenchServer, workload: Workload): Promise<void> {
  const manifestIds = manifestIdsByName();
  const seen = new Set<string>();
  for (const request of workload.requests.slice(segmentStart(workload, 'B'))) {
    if (seen.has(request.operation)) continue;
    seen.add(request.operation);
    const body = await send(server, workload, request, manifestIds);
    if (body.status !== 200 || body.errors !== undefined) {
      throw new Error(
        `${server.mode}: ${request.operation} answered ${body.status}: ${JSON.stringify(body.errors)}`,
      );
    }
  }
}

async function send(
  server: BenchServer,
  workload: Workload,
  request: WorkloadRequest,
  manifestIds: ReadonlyMap<string, string>,
): Promise<{ status: number; errors?: unknown }> {
  const http = toHttpRequest(request, workload.tokens[request.user] ?? '', manifestIds);
  const response = await fetch(`${server.origin}${http.path}`, {
    method: http.method,
    headers: http.headers,
    body: http.body,
  });
  const json = (await response.json()) as { errors?: unknown };
  return { status: response.status, errors: json.errors };
}

/** One chart query sent alone: its SQL statements and L2 round trips. */
async function probeMode(
  plan: ModePlan,
  server: BenchServer,
  workload: Workload,
  chart: WorkloadRequest,
  probes: Partial<Record<keyof ChartProbes, number>>,
): Promise<void> {
  const ids = manifestIdsByName();
  const once = () =>
    probeRequest(server, async () => {
      await send(server, workload, chart, ids);
    });
  switch (plan.mode) {
    case 'n1':
      probes.n1ChartSql = (await once()).sql;
      break;
    case 'l1':
      probes.loaderChartSql = (await once()).sql;
      break;
    case 'caregraph': {
      await once();
      const warm = await once();
      probes.warmChartSql = warm.sql;
      probes.warmChartRoundTrips = warm.l2RoundTrips;
      probes.warmChartAuditStatements = warm.auditStatements;
      break;
    }
    case 'caregraph-plaintext':
    case 'caregraph-no-audit':
    case 'peer':
    case 'ceiling':
      break;
  }
}

/** Redis memory per 1,000 cached patients, for the two modes that cache in Redis. */
async function measureMemory(
  plan: ModePlan,
  redis: RedisProbe,
  baselineBytes: number,
  workload: Workload,
  played: ReadonlyArray<{ start: number; count: number }>,
  memory: BenchReport['redisBytesPer1000Patients'],
): Promise<void> {
  if (plan.mode !== 'caregraph' && plan.mode !== 'peer') return;
  const used = (await redis.usedMemoryBytes()) - baselineBytes;
  if (plan.mode === 'caregraph') {
    const uuid = '????????-????-????-????-????????????';
    const patients = await redis.countKeys(`*:Patient:${uuid}`);
    memory.caregraph = patients === 0 ? undefined : (used / patients) * 1000;
    return;
  }
  const asked = new Set<string>();
  for (const { start, count } of played) {
    for (let i = start; i < start + count; i++) {
      const request = workload.requests[i % workload.requests.length];
      if (request?.operation === 'Chart' || request?.operation === 'MobileChart') {
        asked.add(request.variables.id ?? '');
      }
    }
  }
  memory.peer = asked.size === 0 ? undefined : (used / asked.size) * 1000;
}

function formatRate(rate: number | undefined): string {
  return rate === undefined ? '–' : `${(rate * 100).toFixed(1)}%`;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
