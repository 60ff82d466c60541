import * as echarts from 'echarts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Machine } from './environment.js';
import type { PhaseResult } from './measurePhase.js';

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
  readonly probes: ChartProbes;
  readonly redisBytesPer1000Patients: { caregraph?: number; peer?: number };
  readonly durationSeconds: number;
}

export interface Ratio {
  readonly name: string;
  readonly target: string;
  readonly measured: number | undefined;
  readonly met: boolean | undefined;
  readonly unit: string;
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

const LABELS: Record<string, string> = {
  n1: 'N+1',
  l1: 'L1 only',
  'caregraph-cold': 'caregraph cold',
  'caregraph-warm': 'caregraph warm',
  'caregraph-plaintext': 'warm, plaintext L2',
  'caregraph-no-audit': 'warm, audit off',
  'peer-cold': 'peer cold',
  'peer-warm': 'peer warm',
  ceiling: 'ceiling',
};

/** Writes latest.json, latest.md and chart.svg into `dir`. */
export function writeReport(dir: string, report: BenchReport): { ratios: Ratio[] } {
  mkdirSync(dir, { recursive: true });
  const ratios = computeRatios(report);
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify({ ...report, ratios }, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.md'), renderMarkdown(report, ratios));
  writeFileSync(join(dir, 'chart.svg'), renderChart(report));
  return { ratios };
}

const fixed = (value: number | undefined, digits = 2) =>
  value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);
const percent = (value: number | undefined) =>
  value === undefined ? '–' : `${(value * 100).toFixed(1)}%`;

export function renderMarkdown(report: BenchReport, ratios: Ratio[]): string {
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
      `${String(report.options.seconds)} s per measured run. Whole run: ${report.durationSeconds.toFixed(0)} s.`,
    '',
    '## Targets',
    '',
    '| Ratio | Target | Measured | Met |',
    '|---|---|---|---|',
    ...ratios.map(
      (r) =>
        `| ${r.name} | ${r.target} | ${fixed(r.measured)}${r.measured === undefined ? '' : r.unit} | ${
          r.met === undefined ? '–' : r.met ? 'yes' : '**no**'
        } |`,
    ),
    '',
    '## Modes',
    '',
    '| Mode | req/s | p50 ms | p95 ms | p99 ms | SQL/req | audit INSERTs/req | L2 round trips/req | Redis cmds/req | L1 hit | L2 hit | response-cache hit | audit events/req | RSS MB | non-2xx |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...report.phases.map(
      (p) =>
        `| ${LABELS[p.id] ?? p.id} | ${p.load.requestsPerSecond.toFixed(0)} | ${fixed(p.load.latencyMs.p50)} | ${fixed(
          p.load.latencyMs.p95,
        )} | ${fixed(p.load.latencyMs.p99)} | ${fixed(p.sqlPerRequest)} | ${fixed(p.auditStatementsPerRequest)} | ${fixed(p.l2RoundTripsPerRequest)} | ${fixed(
          p.redisCommandsPerRequest,
        )} | ${percent(p.hitRate.l1)} | ${percent(p.hitRate.l2)} | ${percent(p.hitRate.responseCache)} | ${fixed(
          p.auditEventsPerRequest,
        )} | ${p.rssBytes === undefined ? '–' : (p.rssBytes / 2 ** 20).toFixed(0)} | ${p.load.non2xx + p.load.errors} |`,
    ),
    '',
    `Redis memory per 1,000 cached patients: caregraph ${kib(report.redisBytesPer1000Patients.caregraph)}, ` +
      `peer ${kib(report.redisBytesPer1000Patients.peer)} (caregraph: per patient entry in L2, with their ` +
      'records, studies and lists; peer: per distinct patient whose chart it was asked for).',
    '',
    `Chart probes: one cold chart query takes ${report.probes.n1ChartSql} SQL statements with N+1 resolvers and ` +
      `${report.probes.loaderChartSql} with DataLoader; warm through caregraph, ${report.probes.warmChartSql} SQL ` +
      `statements and ${report.probes.warmChartRoundTrips} Redis round trips, plus ` +
      `${report.probes.warmChartAuditStatements} audit INSERT (the events must be committed before the response).`,
    '',
    '![Throughput and p95 latency by mode](chart.svg)',
    '',
  ];
  return `${lines.join('\n')}\n`;
}

const kib = (bytes: number | undefined) =>
  bytes === undefined ? '–' : `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Throughput bars and p95 latency per mode, as SVG rendered by Apache ECharts. */
export function renderChart(report: BenchReport): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 960, height: 440 });
  chart.setOption({
    animation: false,
    backgroundColor: '#ffffff',
    title: {
      text: 'caregraph and its peers: throughput and p95 latency by mode',
      subtext: `${String(report.options.patients)} patients, Zipf portal mix, ${report.machine.nproc} CPUs, commit ${report.commit}`,
      left: 'center',
    },
    legend: { top: 52 },
    grid: { top: 90, bottom: 70, left: 70, right: 70 },
    xAxis: {
      type: 'category',
      data: report.phases.map((p) => LABELS[p.id] ?? p.id),
      axisLabel: { interval: 0, rotate: 20 },
    },
    yAxis: [
      { type: 'value', name: 'requests/s' },
      { type: 'value', name: 'p95 ms', splitLine: { show: false } },
    ],
    series: [
      {
        name: 'requests/s',
        type: 'bar',
        data: report.phases.map((p) => Math.round(p.load.requestsPerSecond)),
        label: { show: true, position: 'top' },
      },
      {
        name: 'p95 latency (ms)',
        type: 'line',
        yAxisIndex: 1,
        data: report.phases.map((p) => Number(p.load.latencyMs.p95.toFixed(1))),
      },
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}
