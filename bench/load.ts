/**
 * The load generator, in a process of its own so that it never shares an event loop with the
 * server it measures: `node --import tsx bench/load.ts <spec.json>`. It plays the workload's
 * request stream from `start` for `durationSeconds` with autocannon and prints one JSON result.
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { commandCpuSeconds, cpuSecondsBetween, processTreeCpuSeconds } from './cpu.js';
import {
  MOBILE_CLIENT_NAME,
  PORTAL_OPERATIONS,
  isMobileOperation,
  loadManifestOperations,
} from './operations.js';
import type { Workload, WorkloadRequest } from './workload.js';

export interface LoadSpec {
  readonly url: string;
  readonly workloadPath: string;
  readonly start: number;
  readonly durationSeconds: number;
  readonly connections: number;
  /**
   * The server under test, whose CPU (with its workers') is sampled when the load starts and
   * when it stops.
   */
  readonly serverPid?: number;
}

/** CPU seconds spent over the measured window, each process's user plus system time. */
export interface LoadCpu {
  /** The server under test (/proc); undefined when /proc could not be read. */
  readonly serverSeconds: number | undefined;
  /** This load generator's own process, autocannon included. */
  readonly loadSeconds: number;
  /** Postgres's processes (backends included) and Redis's, on this machine. */
  readonly postgresSeconds?: number;
  readonly redisSeconds?: number;
}

const POSTGRES = new Set(['postgres']);
const REDIS = new Set(['redis-server']);

export interface LoadResult {
  readonly requests: number;
  readonly durationSeconds: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: { p50: number; p95: number; p99: number; mean: number };
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  /** Requests sent, by operation. */
  readonly operations: Record<string, number>;
  readonly cpu: LoadCpu;
}

interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/** The HTTP form of a workload request: portal operations POST their text, mobile ones GET an id. */
export function toHttpRequest(
  request: WorkloadRequest,
  token: string,
  manifestIds: ReadonlyMap<string, string>,
): HttpRequest {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (isMobileOperation(request.operation)) {
    const extensions = JSON.stringify({
      persistedQuery: { version: 1, sha256Hash: manifestIds.get(request.operation) },
    });
    const params = new URLSearchParams({
      operationName: request.operation,
      variables: JSON.stringify(request.variables),
      extensions,
    });
    headers['apollographql-client-name'] = MOBILE_CLIENT_NAME;
    return { method: 'GET', path: `/graphql?${params.toString()}`, headers };
  }
  headers['content-type'] = 'application/json';
  return {
    method: 'POST',
    path: '/graphql',
    headers,
    body: JSON.stringify({
      operationName: request.operation,
      query: PORTAL_OPERATIONS[request.operation],
      variables: request.variables,
    }),
  };
}

export function manifestIdsByName(): Map<string, string> {
  return new Map([...loadManifestOperations()].map(([name, op]) => [name, op.id]));
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const workload = JSON.parse(readFileSync(spec.workloadPath, 'utf8')) as Workload;
  const manifestIds = manifestIdsByName();
  const total = workload.requests.length;
  let next = spec.start;
  const operations: Record<string, number> = {};
  const latencies: number[] = [];

  let finish: (result: autocannon.Result) => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  // Sampled right around autocannon's run, so neither process's start-up is charged to requests.
  const serverCpu = () =>
    spec.serverPid === undefined ? undefined : processTreeCpuSeconds(spec.serverPid);
  const serverBefore = serverCpu();
  const postgresBefore = commandCpuSeconds(POSTGRES);
  const redisBefore = commandCpuSeconds(REDIS);
  const loadBefore = process.cpuUsage();
  let cpu: LoadCpu = {
    serverSeconds: undefined,
    loadSeconds: 0,
    postgresSeconds: 0,
    redisSeconds: 0,
  };
  const instance = autocannon(
    {
      url: spec.url,
      connections: spec.connections,
      duration: spec.durationSeconds,
      timeout: 10,
      requests: [
        {
          // Every connection takes the stream's next request, so the stream is played in order.
          setupRequest: (req) => {
            const request = workload.requests[next % total] as WorkloadRequest;
            next++;
            operations[request.operation] = (operations[request.operation] ?? 0) + 1;
            const http = toHttpRequest(request, workload.tokens[request.user] ?? '', manifestIds);
            return { ...req, ...http };
          },
        },
      ],
    },
    (error: Error | null, result: autocannon.Result) => {
      const load = process.cpuUsage(loadBefore);
      const serverAfter = serverCpu();
      cpu = {
        serverSeconds:
          serverBefore === undefined || serverAfter === undefined
            ? undefined
            : serverAfter - serverBefore,
        loadSeconds: (load.user + load.system) / 1e6,
        postgresSeconds: cpuSecondsBetween(postgresBefore, commandCpuSeconds(POSTGRES)),
        redisSeconds: cpuSecondsBetween(redisBefore, commandCpuSeconds(REDIS)),
      };
      if (error === null) finish(result);
      else fail(error);
    },
  );
  instance.on('response', (_client, _status, _bytes, responseTimeMs) => {
    latencies.push(responseTimeMs);
  });
  const result = await finished;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const durationSeconds = result.duration;
  return {
    requests: latencies.length,
    durationSeconds,
    requestsPerSecond: latencies.length / durationSeconds,
    latencyMs: {
      p50: at(0.5),
      p95: at(0.95),
      p99: at(0.99),
      mean: latencies.reduce((sum, l) => sum + l, 0) / Math.max(1, latencies.length),
    },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    operations,
    cpu,
  };
}

const specPath = process.argv[2];
if (specPath !== undefined && import.meta.url === `file://${process.argv[1] ?? ''}`) {
  run(JSON.parse(readFileSync(specPath, 'utf8')) as LoadSpec)
    .then((result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    })
    .catch((error: unknown) => {
      process.stderr.write(`load failed: ${String(error)}\n`);
      process.exit(1);
    });
}
