import type { PhaseResult } from '../../bench/measurePhase.js';
import type { BenchReport } from '../../bench/report.js';

/** A phase of `requestsPerSecond` over 10 s, with the server's CPU per request given. */
export function phase(
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
      cpu: { serverSeconds: 10, loadSeconds: 2 },
    },
    sqlPerRequest: 0,
    auditStatementsPerRequest: 0.5,
    l2RoundTripsPerRequest: undefined,
    redisCommandsPerRequest: 0,
    hitRate: {},
    l2GetP95Ms: undefined,
    auditEventsPerRequest: 10,
    rssBytes: 100 * 2 ** 20,
    cpuMsPerRequest: { server: 1000 / requestsPerSecond, load: 200 / requestsPerSecond },
    redisErrors: undefined,
    breakerState: undefined,
    ...extra,
  };
}

/** One run's report: every mode, the warm chart alone and the L2 probe, with round figures. */
export const report: BenchReport = {
  generatedAt: '2026-11-21T00:00:00.000Z',
  commit: 'abc1234',
  quick: false,
  machine: { nproc: 2, cpu: 'test', kernel: '6', node: 'v20', postgres: '15', redis: '7' },
  options: { patients: 100, connections: 4, seconds: 10 },
  workload: { requests: 1000, users: { clinicians: 10 }, mix: { chart: 100 } },
  phases: [
    phase('n1', 10),
    phase('l1', 100),
    phase('caregraph-warm', 400, {
      hitRate: { l1: 0.5, l2: 0.95 },
      l2GetP95Ms: 0.8,
      redisErrors: 0,
      breakerState: 0,
    }),
    phase('caregraph-plaintext', 420),
    phase('caregraph-no-audit', 500),
    phase('peer-warm', 200, { hitRate: { responseCache: 0.4 } }),
    phase('ceiling', 600),
  ],
  warmCharts: [
    phase('warm-chart-l1', 100, { cpuMsPerRequest: { server: 4, load: 0.2 } }),
    phase('warm-chart-caregraph', 300, { cpuMsPerRequest: { server: 1.5, load: 0.2 } }),
    phase('warm-chart-ceiling', 1000, { cpuMsPerRequest: { server: 0.6, load: 0.2 } }),
  ],
  l2Probe: { samples: 2000, p50Ms: 0.2, p95Ms: 0.4, p99Ms: 0.9, keys: 500, keysPerGet: 20 },
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
