import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpuMsPerRequest } from './cpu.js';
import { residentBytes, type RedisProbe } from './environment.js';
import type { LoadResult, LoadSpec } from './load.js';
import { histogramQuantile, scrape, type Scrape } from './prometheus.js';
import type { BenchServer } from './servers/spawnBenchServer.js';

export interface PhaseResult {
  readonly id: string;
  readonly mode: string;
  readonly segment: string;
  readonly load: LoadResult;
  /** SQL statements that read or write data; the audit trail's INSERTs are counted apart. */
  readonly sqlPerRequest: number;
  /** Audit INSERTs: one per request at most, fewer when concurrent requests share one. */
  readonly auditStatementsPerRequest: number;
  /** L2 round trips the server counted; undefined for modes whose L2 keeps nothing. */
  readonly l2RoundTripsPerRequest: number | undefined;
  /** Commands Redis itself served, whoever sent them. */
  readonly redisCommandsPerRequest: number;
  readonly hitRate: { l1?: number; l2?: number; responseCache?: number };
  readonly l2GetP95Ms: number | undefined;
  readonly auditEventsPerRequest: number;
  readonly rssBytes: number | undefined;
  /** CPU milliseconds per completed request: the server's (/proc) and the load generator's. */
  readonly cpuMsPerRequest: {
    server: number | undefined;
    load: number | undefined;
    /** Postgres's and Redis's processes on this machine, whoever they served. */
    postgres?: number | undefined;
    redis?: number | undefined;
  };
  /** L2 commands that failed or timed out (`caregraph_redis_errors_total`); undefined without it. */
  readonly redisErrors: number | undefined;
  /** The L2 breaker when the run ended: 0 closed, 1 half-open, 2 open; undefined without it. */
  readonly breakerState: number | undefined;
}

const REDIS_ERRORS = 'caregraph_redis_errors_total';
const BREAKER_STATE = 'caregraph_cache_breaker_state';

const AUDIT_TABLE = 'audit_events';
const LOAD = fileURLToPath(new URL('./load.ts', import.meta.url));

/** Runs the load generator in its own process. */
export async function runLoad(spec: LoadSpec, specPath: string): Promise<LoadResult> {
  writeFileSync(specPath, JSON.stringify(spec));
  const child = spawn(process.execPath, ['--import', 'tsx', LOAD, specPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0)
    throw new Error(`the load generator failed (${String(code)}): ${err.slice(-2000)}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as LoadResult;
}

/** Plays one phase against a server and reads what it cost, from the server and from Redis. */
export async function measurePhase(
  server: BenchServer,
  redis: RedisProbe,
  id: string,
  segment: string,
  spec: LoadSpec,
  specPath: string,
): Promise<PhaseResult> {
  const before = await scrape(server.origin);
  const commandsBefore = await redis.commandsProcessed();
  const load = await runLoad({ ...spec, serverPid: server.pid }, specPath);
  const after = await scrape(server.origin);
  const commands = (await redis.commandsProcessed()) - commandsBefore;
  const delta = (name: string, labels?: Record<string, string>) =>
    after.sum(name, labels) - before.sum(name, labels);
  const perRequest = (n: number) => n / Math.max(1, load.requests);
  const rate = (hits: number, misses: number) =>
    hits + misses === 0 ? undefined : hits / (hits + misses);
  const cache = (layer: string, result: string) =>
    delta('caregraph_cache_requests_total', { layer, result });
  const responses = (result: string) => delta('caregraph_bench_response_cache_total', { result });
  const auditStatements = delta('caregraph_db_queries_total', { table: AUDIT_TABLE });
  return {
    id,
    mode: server.mode,
    segment,
    load,
    sqlPerRequest: perRequest(delta('caregraph_db_queries_total') - auditStatements),
    auditStatementsPerRequest: perRequest(auditStatements),
    l2RoundTripsPerRequest: server.mode.startsWith('caregraph')
      ? perRequest(delta('caregraph_l2_round_trips_total'))
      : undefined,
    redisCommandsPerRequest: perRequest(commands),
    hitRate: {
      l1: rate(cache('l1', 'hit'), cache('l1', 'miss')),
      l2: rate(cache('l2', 'hit'), cache('l2', 'miss')),
      responseCache: rate(responses('hit'), responses('miss')),
    },
    l2GetP95Ms: quantileMs(before, after, 0.95),
    auditEventsPerRequest: perRequest(delta('caregraph_audit_events_total')),
    rssBytes: residentBytes(server.pid),
    cpuMsPerRequest: {
      server: cpuMsPerRequest(load.cpu.serverSeconds, load.requests),
      load: cpuMsPerRequest(load.cpu.loadSeconds, load.requests),
      postgres: cpuMsPerRequest(load.cpu.postgresSeconds, load.requests),
      redis: cpuMsPerRequest(load.cpu.redisSeconds, load.requests),
    },
    redisErrors: after.declares(REDIS_ERRORS) ? delta(REDIS_ERRORS) : undefined,
    breakerState: after.declares(BREAKER_STATE) ? after.sum(BREAKER_STATE) : undefined,
  };
}

function quantileMs(before: Scrape, after: Scrape, q: number): number | undefined {
  const seconds = histogramQuantile(
    before,
    after,
    'caregraph_l2_duration_seconds',
    { op: 'get' },
    q,
  );
  return seconds === undefined ? undefined : seconds * 1000;
}

/** SQL statements (audit apart) and L2 round trips of one request, sent alone. */
export async function probeRequest(
  server: BenchServer,
  send: () => Promise<void>,
): Promise<{ sql: number; auditStatements: number; l2RoundTrips: number }> {
  const before = await scrape(server.origin);
  await send();
  const after = await scrape(server.origin);
  const delta = (name: string, labels?: Record<string, string>) =>
    after.sum(name, labels) - before.sum(name, labels);
  const audit = delta('caregraph_db_queries_total', { table: AUDIT_TABLE });
  return {
    sql: delta('caregraph_db_queries_total') - audit,
    auditStatements: audit,
    l2RoundTrips: delta('caregraph_l2_round_trips_total'),
  };
}
