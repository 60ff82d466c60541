import { describe, expect, it } from 'vitest';
import type { PhaseResult } from '../../bench/measurePhase.js';
import {
  computeRatios,
  renderChart,
  renderMarkdown,
  type BenchReport,
} from '../../bench/report.js';

function phase(
  id: string,
  requestsPerSecond: number,
  extra: Partial<PhaseResult> = {},
): PhaseResult {
  return {
    id,
    mode: id,
    segment: 'B',
    load: {
      requests: requestsPerSecond * 10,
      durationSeconds: 10,
      requestsPerSecond,
      latencyMs: {
        p50: 1000 / requestsPerSecond,
        p95: 2000 / requestsPerSecond,
        p99: 3000 / requestsPerSecond,
        mean: 1,
      },
      non2xx: 0,
      errors: 0,
      timeouts: 0,
      operations: {},
    },
    sqlPerRequest: 0,
    auditStatementsPerRequest: 0.5,
    l2RoundTripsPerRequest: undefined,
    redisCommandsPerRequest: 0,
    hitRate: {},
    l2GetP95Ms: undefined,
    auditEventsPerRequest: 10,
    rssBytes: 100 * 2 ** 20,
    ...extra,
  };
}

const report: BenchReport = {
  generatedAt: '2026-11-21T00:00:00.000Z',
  commit: 'abc1234',
  quick: false,
  machine: { nproc: 2, cpu: 'test', kernel: '6', node: 'v20', postgres: '15', redis: '7' },
  options: { patients: 100, connections: 4, seconds: 10 },
  workload: { requests: 1000, users: { clinicians: 10 }, mix: { chart: 100 } },
  phases: [
    phase('n1', 10),
    phase('l1', 100),
    phase('caregraph-warm', 400, { hitRate: { l1: 0.5, l2: 0.95 }, l2GetP95Ms: 0.8 }),
    phase('caregraph-plaintext', 420),
    phase('caregraph-no-audit', 500),
    phase('peer-warm', 200, { hitRate: { responseCache: 0.4 } }),
    phase('ceiling', 600),
  ],
  probes: {
    n1ChartSql: 60,
    loaderChartSql: 6,
    warmChartSql: 0,
    warmChartRoundTrips: 4,
    warmChartAuditStatements: 1,
  },
  redisBytesPer1000Patients: { caregraph: 2 ** 20 },
  durationSeconds: 300,
};

describe('the bench report', () => {
  it('computes every target ratio from the phases', () => {
    const ratios = Object.fromEntries(computeRatios(report).map((r) => [r.name, r]));
    expect(ratios['caregraph warm vs L1-only throughput']).toMatchObject({
      measured: 4,
      met: true,
    });
    expect(ratios['caregraph warm vs L1-only p95 latency']).toMatchObject({
      measured: 0.25,
      met: true,
    });
    expect(ratios['caregraph warm vs peer response cache throughput']).toMatchObject({
      measured: 2,
      met: true,
    });
    expect(ratios['caregraph warm vs peer response cache hit rate']?.measured).toBeCloseTo(2.375);
    expect(ratios['caregraph warm vs ceiling throughput']?.measured).toBeCloseTo(0.667);
    expect(ratios['N+1 vs DataLoader, SQL statements on the cold chart']).toMatchObject({
      measured: 10,
      met: true,
    });
    expect(ratios['sealed vs plaintext L2 throughput']?.met).toBe(true);
    expect(ratios['L2 get p95 (warm)']).toMatchObject({ measured: 0.8, met: true });
  });

  it('marks a missed target, and a ratio it cannot compute as unknown', () => {
    const slow = { ...report, phases: report.phases.filter((p) => p.id !== 'ceiling') };
    const ratios = Object.fromEntries(computeRatios(slow).map((r) => [r.name, r]));
    expect(ratios['caregraph warm vs ceiling throughput']).toMatchObject({
      measured: undefined,
      met: undefined,
    });
    const missed = computeRatios({
      ...report,
      probes: { ...report.probes, warmChartRoundTrips: 9 },
    });
    expect(missed.find((r) => r.name === 'warm chart query: Redis round trips')?.met).toBe(false);
  });

  it('renders the table and an SVG chart of every mode', () => {
    expect(renderMarkdown(report, computeRatios(report))).toContain('| caregraph warm | 400 |');
    const svg = renderChart(report);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('caregraph warm');
    expect(svg).toContain('ceiling');
  });
});
