/**
 * `npm run bench`: caregraph side by side with its baselines and its peer, in one run, on the
 * same seeded data and the same request stream. Writes bench/results/latest.{json,md} and
 * chart.svg. `-- --quick` runs every mode briefly, to prove the bench works; its figures are
 * not for comparison.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchServerEnv, seedBenchData } from './benchData.js';
import {
  benchServices,
  connectRedis,
  describeCommit,
  describeMachine,
  type RedisProbe,
} from './environment.js';
import { probeL2Gets, type L2Probe } from './l2Probe.js';
import { measurePhase, type PhaseResult } from './measurePhase.js';
import { planModes, type ModePlan } from './phases.js';
import { preflight, probeMode, segmentStart } from './probes.js';
import { formatMeasured, writeReport, type BenchReport, type ChartProbes } from './report.js';
import { spawnBenchServer } from './servers/spawnBenchServer.js';
import {
  measureWarmChart,
  prepareWarmChart,
  UNTRACKED_WARM_CHART,
  WARM_CHART_MODES,
} from './warmChart.js';
import { measureWarming } from './warming.js';
import { MIX, type Workload } from './workload.js';

const RESULTS_DIR = fileURLToPath(new URL('./results', import.meta.url));
// The servers' CACHE_KEY_PREFIX, set explicitly so that the L2 probe reads their keys only.
const CACHE_KEY_PREFIX = 'cgbench';

function readOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      patients: { type: 'string' },
      seconds: { type: 'string' },
      'warm-up': { type: 'string' },
      connections: { type: 'string', default: '16' },
      seed: { type: 'string', default: '42' },
      'hot-minutes': { type: 'string' },
      only: { type: 'string' },
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
    warmChart: { charts: 50, warmUpSeconds: quick ? 2 : 3, seconds: quick ? 2 : 10 },
    l2Probe: { gets: 2_000, keysPerGet: 20, warmUpGets: 200 },
    warming: {
      fillSeconds: quick ? 8 : 30,
      afterBumpSeconds: quick ? 10 : 40,
      bumpRatePerSecond: 60,
      hotMinutes: number(values['hot-minutes'], quick ? 1 : 10, 'hot-minutes'),
      hotPatients: quick ? 40 : 150,
    },
    out: values.out,
    // `--only warming`: the warming scenarios alone (their report beside latest.*).
    onlyWarming: values.only === 'warming',
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
    const { workload, jwt, seeded } = await seedBenchData(services, options);
    log(`bench: seeded ${JSON.stringify(seeded)}`);
    const workloadPath = join(work, 'workload.json');
    writeFileSync(workloadPath, JSON.stringify(workload));
    log(
      `bench: workload of ${workload.requests.length} requests, users ${JSON.stringify(workload.users)}`,
    );

    const warmChart = prepareWarmChart(workload, work, options.warmChart);
    const env = benchServerEnv(services, jwt, CACHE_KEY_PREFIX);
    if (options.onlyWarming) {
      const warming = await measureWarming(env, services.redisUrl, workload, options.warming, log);
      mkdirSync(options.out, { recursive: true });
      writeFileSync(
        join(options.out, 'warming.json'),
        `${JSON.stringify({ generatedAt: new Date().toISOString(), commit: describeCommit(), warming }, null, 2)}\n`,
      );
      log(`bench: warming scenarios written to ${join(options.out, 'warming.json')}`);
      return;
    }
    const phases: PhaseResult[] = [];
    const warmCharts: PhaseResult[] = [];
    let l2Probe: L2Probe | undefined;
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
        if (WARM_CHART_MODES.includes(plan.mode)) {
          const result = await measureWarmChart(server, redis, warmChart, join(work, 'spec.json'));
          warmCharts.push(result);
          log(
            `bench: ${result.id.padEnd(20)} ${result.load.requestsPerSecond.toFixed(0).padStart(6)} req/s ` +
              `on 1 connection, server CPU ${formatMs(result.cpuMsPerRequest.server)}/req`,
          );
        }
        if (plan.mode === 'caregraph') {
          // Nothing else runs now: the server is idle and L2 is warm.
          l2Probe = await probeL2Gets(services.redisUrl, {
            ...options.l2Probe,
            prefix: CACHE_KEY_PREFIX,
            seed: options.seed,
          });
          log(
            `bench: unloaded L2 MGET of ${String(options.l2Probe.keysPerGet)} keys: ` +
              `p50 ${formatMs(l2Probe?.p50Ms)}, p95 ${formatMs(l2Probe?.p95Ms)}, p99 ${formatMs(l2Probe?.p99Ms)}`,
          );
        }
      } finally {
        await server.stop();
      }
    }

    // The warm chart again with the warmer and its usage tracking off: what tracking costs.
    {
      await redis.flush();
      const server = await spawnBenchServer('caregraph', { ...env, CACHE_WARM: 'off' });
      try {
        await preflight(server, workload);
        const result = await measureWarmChart(server, redis, warmChart, join(work, 'spec.json'));
        warmCharts.push({ ...result, id: UNTRACKED_WARM_CHART });
        log(
          `bench: ${UNTRACKED_WARM_CHART.padEnd(20)} ${result.load.requestsPerSecond.toFixed(0).padStart(6)} req/s ` +
            `on 1 connection, server CPU ${formatMs(result.cpuMsPerRequest.server)}/req`,
        );
      } finally {
        await server.stop();
      }
    }
    const warming = await measureWarming(env, services.redisUrl, workload, options.warming, log);

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
      warmCharts,
      l2Probe,
      probes: {
        n1ChartSql: probes.n1ChartSql ?? NaN,
        loaderChartSql: probes.loaderChartSql ?? NaN,
        warmChartSql: probes.warmChartSql ?? NaN,
        warmChartRoundTrips: probes.warmChartRoundTrips ?? NaN,
        warmChartAuditStatements: probes.warmChartAuditStatements ?? NaN,
      },
      redisBytesPer1000Patients: memory,
      warming,
      durationSeconds: (Date.now() - startedAt) / 1000,
    };
    const { targets, ratios } = writeReport(options.out, report);
    log(`bench: report written to ${options.out} in ${report.durationSeconds.toFixed(0)} s`);
    for (const r of [...targets, ...ratios]) {
      log(
        `  ${r.name}: ${formatMeasured(r)} (target ${r.target})${r.met === false ? '  MISSED' : ''}`,
      );
    }
  } finally {
    await redis.close();
    rmSync(work, { recursive: true, force: true });
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

function formatMs(ms: number | undefined): string {
  return ms === undefined ? '–' : `${ms.toFixed(3)} ms`;
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
