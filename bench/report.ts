import type { WarmingResult } from './warming.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderChart } from './chart.js';
import type { Machine } from './environment.js';
import type { L2Probe } from './l2Probe.js';
import { runLabel } from './labels.js';
import type { PhaseResult } from './measurePhase.js';
import { computeTargets, computeWarmingTargets } from './targets.js';

export interface ChartProbes {
  /** SQL statements of one cold chart query, N+1 resolvers and DataLoader. */
  readonly n1ChartSql: number;
  readonly loaderChartSql: number;
  /** One warm chart query through caregraph. */
  readonly warmChartSql: number;
  readonly warmChartRoundTrips: number;
  /** The warm chart's audit INSERT, which no cache can spare (SPEC §2.9). */
  readonly warmChartAuditStatements: number;
}

export interface BenchReport {
  readonly generatedAt: string;
  readonly commit: string;
  readonly quick: boolean;
  readonly machine: Machine;
  readonly options: Record<string, number | boolean>;
  readonly workload: {
    readonly requests: number;
    readonly users: Record<string, number>;
    readonly mix: Record<string, number>;
  };
  readonly phases: PhaseResult[];
  /** The warm chart query alone, on one connection, for caregraph, L1 only and the ceiling. */
  readonly warmCharts: PhaseResult[];
  /** Sequential MGETs of real entries against the warm L2, with nothing else running. */
  readonly l2Probe: L2Probe | undefined;
  readonly probes: ChartProbes;
  readonly redisBytesPer1000Patients: { caregraph?: number; peer?: number };
  /** The warming scenarios (bench/warming.ts); absent in reports of older runs. */
  readonly warming?: WarmingResult;
  readonly durationSeconds: number;
}

export interface Ratio {
  readonly name: string;
  readonly target: string;
  readonly measured: number | undefined;
  readonly met: boolean | undefined;
  readonly unit: string;
  /** The issue's figure before the work, for the targets table. */
  readonly before?: string;
  /** Said beside the figure: what it was measured on, or why there is none. */
  readonly note?: string | undefined;
}

/** A ratio's measured figure with its unit and note, as the tables print it. */
export function formatMeasured(r: Ratio): string {
  if (r.measured === undefined || Number.isNaN(r.measured)) return r.note ?? '–';
  const value = Number.isInteger(r.measured) ? String(r.measured) : r.measured.toFixed(2);
  return `${value}${r.unit}${r.note === undefined ? '' : ` (${r.note})`}`;
}

/** The issue's targets, computed from one run's phases. Reported, never asserted. */
export function computeRatios(report: BenchReport): Ratio[] {
  const phase = (id: string) => report.phases.find((p) => p.id === id);
  const rps = (id: string) => phase(id)?.load.requestsPerSecond;
  const div = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || b === 0 ? undefined : a / b;
  const atLeast = (v: number | undefined, t: number) => (v === undefined ? undefined : v >= t);
  const atMost = (v: number | undefined, t: number) => (v === undefined ? undefined : v <= t);
  const warm = phase('caregraph-warm');
  const ratio = (
    name: string,
    target: string,
    measured: number | undefined,
    met: boolean | undefined,
    unit = '×',
  ): Ratio => ({ name, target, measured, met, unit });
  const vsL1 = div(rps('caregraph-warm'), rps('l1'));
  const p95VsL1 = div(warm?.load.latencyMs.p95, phase('l1')?.load.latencyMs.p95);
  const vsPeer = div(rps('caregraph-warm'), rps('peer-warm'));
  const hitVsPeer = div(warm?.hitRate.l2, phase('peer-warm')?.hitRate.responseCache);
  const vsCeiling = div(rps('caregraph-warm'), rps('ceiling'));
  const n1Sql = div(report.probes.n1ChartSql, report.probes.loaderChartSql);
  const sealed = div(rps('caregraph-warm'), rps('caregraph-plaintext'));
  const audit = div(rps('caregraph-warm'), rps('caregraph-no-audit'));
  const workers = div(rps('caregraph-workers-warm'), rps('caregraph-warm'));
  return [
    ratio('caregraph warm vs L1-only throughput', '≥ 3×', vsL1, atLeast(vsL1, 3)),
    ratio('caregraph warm vs L1-only p95 latency', '≤ 0.35×', p95VsL1, atMost(p95VsL1, 0.35)),
    ratio(
      'caregraph warm vs peer response cache throughput',
      '≥ 1.5×',
      vsPeer,
      atLeast(vsPeer, 1.5),
    ),
    ratio(
      'caregraph warm vs peer response cache hit rate',
      '≥ 2×',
      hitVsPeer,
      atLeast(hitVsPeer, 2),
    ),
    ratio('caregraph warm vs ceiling throughput', '≥ 0.6×', vsCeiling, atLeast(vsCeiling, 0.6)),
    ratio(
      'warm chart query: SQL statements',
      '0',
      report.probes.warmChartSql,
      report.probes.warmChartSql === 0,
      '',
    ),
    ratio(
      'warm chart query: Redis round trips',
      '≤ 4',
      report.probes.warmChartRoundTrips,
      report.probes.warmChartRoundTrips <= 4,
      '',
    ),
    ratio(
      'N+1 vs DataLoader, SQL statements on the cold chart',
      '≥ 10×',
      n1Sql,
      atLeast(n1Sql, 10),
    ),
    ratio('sealed vs plaintext L2 throughput', '≥ 0.93×', sealed, atLeast(sealed, 0.93)),
    ratio('audit on vs off throughput (no target)', 'reported', audit, undefined),
    ratio('2 workers vs 1 worker warm throughput (no target)', 'reported', workers, undefined),
    ratio(
      'L2 hit rate on the Zipf mix (warm)',
      '≥ 0.9',
      warm?.hitRate.l2,
      atLeast(warm?.hitRate.l2, 0.9),
      '',
    ),
    ratio('L2 get p95 (warm)', '≤ 1 ms', warm?.l2GetP95Ms, atMost(warm?.l2GetP95Ms, 1), ' ms'),
  ];
}

/**
 * Writes latest.json, latest.md and chart.svg into `dir`.
 *
 * @returns the issue's targets and the other ratios, as written.
 */
export function writeReport(
  dir: string,
  report: BenchReport,
): { targets: Ratio[]; ratios: Ratio[] } {
  mkdirSync(dir, { recursive: true });
  const targets = [...computeTargets(report), ...computeWarmingTargets(report)];
  const ratios = computeRatios(report);
  writeFileSync(
    join(dir, 'latest.json'),
    `${JSON.stringify({ ...report, targets, ratios }, null, 2)}\n`,
  );
  writeFileSync(join(dir, 'latest.md'), renderMarkdown(report, ratios, targets));
  writeFileSync(join(dir, 'chart.svg'), renderChart(report));
  return { targets, ratios };
}

const fixed = (value: number | undefined, digits = 2) =>
  value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);
const percent = (value: number | undefined) =>
  value === undefined ? '–' : `${(value * 100).toFixed(1)}%`;

const met = (r: Ratio) => (r.met === undefined ? '–' : r.met ? 'yes' : '**no**');
const cpuMs = (value: number | undefined) => fixed(value, 3);

/**
 * The report as Markdown: the issue's targets, the other ratios, every mode, the warm chart
 * alone and the unloaded L2 probe.
 *
 * @returns the document, ending in a newline.
 */
export function renderMarkdown(report: BenchReport, ratios: Ratio[], targets: Ratio[]): string {
  const m = report.machine;
  const lines = [
    '# caregraph benchmark: latest run',
    '',
    `Commit \`${report.commit}\`, ${report.generatedAt}${report.quick ? ' (**quick mode**: brief runs, not for comparison)' : ''}.`,
    `Machine: ${m.nproc} CPUs (${m.cpu}), Linux ${m.kernel}, Node ${m.node}, PostgreSQL ${m.postgres}, Redis ${m.redis}.`,
    `Data: ${String(report.options.patients)} patients seeded; workload of ${report.workload.requests} requests from ` +
      `${Object.entries(report.workload.users)
        .map(([role, n]) => `${n} ${role}`)
        .join(', ')} users; ${String(report.options.connections)} connections, ` +
      `${String(report.options.seconds)} s per measured run; every server with NODE_ENV=production. ` +
      `Whole run: ${report.durationSeconds.toFixed(0)} s.`,
    '',
    '## Targets (issue 11)',
    '',
    '"Before" is the figure issue 11 measured before the work (commit `bd2a55a`).',
    '',
    '| Ratio | Target | Before | Measured | Met |',
    '|---|---|---|---|---|',
    ...targets.map(
      (r) => `| ${r.name} | ${r.target} | ${r.before ?? '–'} | ${formatMeasured(r)} | ${met(r)} |`,
    ),
    '',
    '## Ratios',
    '',
    '| Ratio | Target | Measured | Met |',
    '|---|---|---|---|',
    ...ratios.map((r) => `| ${r.name} | ${r.target} | ${formatMeasured(r)} | ${met(r)} |`),
    '',
    '## Modes',
    '',
    'CPU columns: CPU seconds (user and system, from `/proc`) over the measured window ÷ requests ' +
      'completed in it, for the server under test and for the load generator (autocannon). ' +
      "Postgres and Redis CPU: their processes' CPU over the same window, per request; they " +
      'share the same two cores, so server, load generator, Postgres and Redis together bound ' +
      'the throughput.',
    '',
    '| Mode | req/s | p50 ms | p95 ms | p99 ms | server CPU ms/req | load-gen CPU ms/req | Postgres CPU ms/req | Redis CPU ms/req | SQL/req | audit INSERTs/req | L2 round trips/req | Redis cmds/req | failed Redis cmds | L1 hit | L2 hit | response-cache hit | audit events/req | RSS MB | non-2xx |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...report.phases.map(
      (p) =>
        `| ${runLabel(p.id)} | ${p.load.requestsPerSecond.toFixed(0)} | ${fixed(p.load.latencyMs.p50)} | ${fixed(
          p.load.latencyMs.p95,
        )} | ${fixed(p.load.latencyMs.p99)} | ${cpuMs(p.cpuMsPerRequest.server)} | ${cpuMs(p.cpuMsPerRequest.load)} | ${cpuMs(
          p.cpuMsPerRequest.postgres,
        )} | ${cpuMs(p.cpuMsPerRequest.redis)} | ${fixed(
          p.sqlPerRequest,
        )} | ${fixed(p.auditStatementsPerRequest)} | ${fixed(p.l2RoundTripsPerRequest)} | ${fixed(
          p.redisCommandsPerRequest,
        )} | ${p.redisErrors ?? '–'} | ${percent(p.hitRate.l1)} | ${percent(p.hitRate.l2)} | ${percent(
          p.hitRate.responseCache,
        )} | ${fixed(p.auditEventsPerRequest)} | ${p.rssBytes === undefined ? '–' : (p.rssBytes / 2 ** 20).toFixed(0)} | ${
          p.load.non2xx + p.load.errors
        } |`,
    ),
    '',
    ...warmChartSection(report),
    `Redis memory per 1,000 cached patients: caregraph ${kib(report.redisBytesPer1000Patients.caregraph)}, ` +
      `peer ${kib(report.redisBytesPer1000Patients.peer)} (caregraph: per patient entry in L2, with their ` +
      'records, studies and lists; peer: per distinct patient whose chart it was asked for).',
    '',
    `Chart probes: one cold chart query takes ${report.probes.n1ChartSql} SQL statements with N+1 resolvers and ` +
      `${report.probes.loaderChartSql} with DataLoader; warm through caregraph, ${report.probes.warmChartSql} SQL ` +
      `statements and ${report.probes.warmChartRoundTrips} Redis round trips, plus ` +
      `${report.probes.warmChartAuditStatements} audit INSERT (the events must be committed before the response).`,
    '',
    ...warmingSection(report),
    '![Throughput, p95 latency and CPU per request by mode](chart.svg)',
    '',
  ];
  return `${lines.join('\n')}\n`;
}

/** The warming scenarios (bench/warming.ts), when the run had them. */
function warmingSection(report: BenchReport): string[] {
  const w = report.warming;
  if (w === undefined) return [];
  const seconds = (s: number | undefined) => (s === undefined ? 'never' : `${s.toFixed(1)} s`);
  return [
    '## Warming',
    '',
    `Epoch bump under the portal mix at ${String(w.bump.ratePerSecond)} req/s (a fixed rate, so that recovery is ` +
      `the cache's, not the CPU's): L2 hit rate before the bump ${percent(w.bump.on.preBump)} (warming on) and ` +
      `${percent(w.bump.off.preBump)} (off); back at ${percent(w.bump.threshold)} after ${seconds(w.bump.on.recoverySeconds)} ` +
      `with warming, ${seconds(w.bump.off.recoverySeconds)} without. Bottom panel of the chart.`,
    '',
    `Hot set: the ${String(w.hotSet.patients)} hottest patients of the stream, each opened about every 75 s ` +
      `(${w.hotSet.ratePerSecond.toFixed(1)} charts/s) for ${String(w.hotSet.minutes)} min, both servers at once: L2 hit rate ` +
      `after the first two rounds ${percent(w.hotSet.on)} with warming, ${percent(w.hotSet.off)} without. The warmer spent ` +
      `${w.hotSet.warmStatementsPerSecond.toFixed(2)} SQL statements/s (cap ${String(w.hotSet.capPerSecond)}).`,
    '',
  ];
}

/** The warm chart alone, and the unloaded L2 probe beside the loaded figure. */
function warmChartSection(report: BenchReport): string[] {
  const probe = report.l2Probe;
  const loaded = report.phases.find((p) => p.id === 'caregraph-warm')?.l2GetP95Ms;
  return [
    '## Warm chart alone',
    '',
    "Distinct clinician chart queries from the warm runs' half of the stream, sent on one " +
      'connection after an untimed pass that warms L2 and the JIT; CPU as in the modes table.',
    '',
    '| Mode | req/s | p50 ms | p95 ms | server CPU ms/req | load-gen CPU ms/req | SQL/req | L2 round trips/req | L2 hit |',
    '|---|---|---|---|---|---|---|---|---|',
    ...report.warmCharts.map(
      (p) =>
        `| ${runLabel(p.id)} | ${p.load.requestsPerSecond.toFixed(0)} | ${fixed(p.load.latencyMs.p50)} | ${fixed(
          p.load.latencyMs.p95,
        )} | ${cpuMs(p.cpuMsPerRequest.server)} | ${cpuMs(p.cpuMsPerRequest.load)} | ${fixed(
          p.sqlPerRequest,
        )} | ${fixed(p.l2RoundTripsPerRequest)} | ${percent(p.hitRate.l2)} |`,
    ),
    '',
    probe === undefined
      ? 'Unloaded L2 get probe: not run (L2 held too few entries).'
      : `Unloaded L2 get probe: ${probe.samples} sequential MGETs of ${probe.keysPerGet} entries ` +
        `(drawn from ${probe.keys} keys) from the bench process, server idle: p50 ${cpuMs(probe.p50Ms)} ms, ` +
        `p95 ${cpuMs(probe.p95Ms)} ms, p99 ${cpuMs(probe.p99Ms)} ms. Under load (the warm run, ` +
        `timed by the server): p95 ${fixed(loaded)} ms.`,
    '',
  ];
}

const kib = (bytes: number | undefined) =>
  bytes === undefined ? '–' : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
