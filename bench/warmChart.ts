/**
 * The warm chart alone: clinician chart queries, sent on one connection after warming, so that
 * CPU per request compares caregraph, L1 only and the ceiling on the very same requests, with
 * no writes, searches or queueing behind other requests in the figure.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { RedisProbe } from './environment.js';
import { measurePhase, runLoad, type PhaseResult } from './measurePhase.js';
import type { ServerMode } from './servers/serve.js';
import type { BenchServer } from './servers/spawnBenchServer.js';
import type { Workload, WorkloadRequest } from './workload.js';

/** The modes the CPU ratio compares. */
export const WARM_CHART_MODES: ReadonlyArray<ServerMode> = ['l1', 'caregraph', 'ceiling'];

/** The warm chart of caregraph with CACHE_WARM=off: no usage tracking (its cost, by difference). */
export const UNTRACKED_WARM_CHART = 'warm-chart-caregraph-untracked';

/** The report's id of a mode's warm chart run. */
export const warmChartId = (mode: ServerMode) => `warm-chart-${mode}`;

// Sequential: no request waits behind another, and no batch or group commit is shared.
const CONNECTIONS = 1;

export interface WarmChartPlan {
  /** A workload file holding the chart requests only. */
  readonly workloadPath: string;
  readonly charts: number;
  readonly warmUpSeconds: number;
  readonly seconds: number;
}

/**
 * Distinct clinician chart requests (user and patient) from the stream's second half, the one
 * the warm runs play, in stream order.
 *
 * @returns at most `count` requests.
 */
export function pickWarmCharts(
  requests: ReadonlyArray<WorkloadRequest>,
  count: number,
): WorkloadRequest[] {
  const seen = new Set<string>();
  const picked: WorkloadRequest[] = [];
  for (const request of requests.slice(Math.floor(requests.length / 2))) {
    if (picked.length >= count) break;
    if (request.kind !== 'chart' || request.operation !== 'Chart') continue;
    const key = `${String(request.user)}:${request.variables.id ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    picked.push(request);
  }
  return picked;
}

/**
 * Writes the chart-only workload into `dir`.
 *
 * @throws Error when the stream holds no clinician chart.
 */
export function prepareWarmChart(
  workload: Workload,
  dir: string,
  options: { charts: number; warmUpSeconds: number; seconds: number },
): WarmChartPlan {
  const charts = pickWarmCharts(workload.requests, options.charts);
  if (charts.length === 0) throw new Error('the workload has no clinician chart to measure');
  const workloadPath = join(dir, 'warm-chart.json');
  writeFileSync(workloadPath, JSON.stringify({ ...workload, requests: charts }));
  return { ...options, workloadPath, charts: charts.length };
}

/** Warms the server on the charts (untimed), then measures them on one connection. */
export async function measureWarmChart(
  server: BenchServer,
  redis: RedisProbe,
  plan: WarmChartPlan,
  specPath: string,
): Promise<PhaseResult> {
  const spec = (durationSeconds: number) => ({
    url: `${server.origin}/graphql`,
    workloadPath: plan.workloadPath,
    start: 0,
    durationSeconds,
    connections: CONNECTIONS,
  });
  await runLoad(spec(plan.warmUpSeconds), specPath);
  return measurePhase(
    server,
    redis,
    warmChartId(server.mode),
    'chart',
    spec(plan.seconds),
    specPath,
  );
}
