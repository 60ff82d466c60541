/**
 * Single requests the bench sends alone, outside any load: the preflight that refuses to
 * measure a broken mode, and the chart probe's SQL statements and L2 round trips.
 */
import { manifestIdsByName, toHttpRequest } from './load.js';
import { probeRequest } from './measurePhase.js';
import type { ModePlan, Segment } from './phases.js';
import type { ChartProbes } from './report.js';
import type { BenchServer } from './servers/spawnBenchServer.js';
import type { Workload, WorkloadRequest } from './workload.js';

/** Where a segment of the stream starts: the first half (A) or the second (B). */
export function segmentStart(workload: Workload, segment: Segment): number {
  return segment === 'A' ? 0 : Math.floor(workload.requests.length / 2);
}

/**
 * Sends the first request of each operation once and insists on a clean answer, so a broken
 * mode fails the bench loudly instead of measuring how fast it returns errors.
 */
export async function preflight(server: BenchServer, workload: Workload): Promise<void> {
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
export async function probeMode(
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
    case 'caregraph-workers':
    case 'caregraph-plaintext':
    case 'caregraph-no-audit':
    case 'peer':
    case 'ceiling':
      break;
  }
}
