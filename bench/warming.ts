/**
 * The warming scenarios of `npm run bench` (SPEC §5), caregraph with the warmer on and off:
 *
 * - an epoch bump (a logical flush of L2, as after an outage) under the portal mix, paced at a
 *   fixed rate so that recovery is the cache's, not the CPU's: the L2 hit rate second by
 *   second, and the time until it is back at its threshold;
 * - the hot set's hit rate over a long run of chart opens (the hottest patients, each opened
 *   about every 75 s, longer than their records' 60 s and studies' 30 s TTLs), both servers
 *   at once, each with its own keys; and the statements a second the warmer spent.
 *
 * Both opt their tenants in (CACHE_WARM_PHI_TENANTS): without it only reference data is warmed.
 */
import { createClient } from '@keyv/redis';
import { manifestIdsByName, toHttpRequest } from './load.js';
import { scrape } from './prometheus.js';
import { segmentStart } from './probes.js';
import { spawnBenchServer, type BenchServer } from './servers/spawnBenchServer.js';
import type { Workload, WorkloadRequest } from './workload.js';

export interface HitRateSeries {
  /** Seconds since the bump (negative before it). */
  readonly t: number[];
  /** The L2 hit rate over each second; null for a second with no lookup. */
  readonly hitRate: Array<number | null>;
}

export interface WarmingResult {
  readonly bump: {
    readonly ratePerSecond: number;
    /** The hit rate "back" means: 80%, or 90% of the pre-bump rate when that is lower. */
    readonly threshold: number;
    readonly on: HitRateSeries & { preBump: number; recoverySeconds: number | undefined };
    readonly off: HitRateSeries & { preBump: number; recoverySeconds: number | undefined };
  };
  readonly hotSet: {
    readonly minutes: number;
    readonly patients: number;
    readonly ratePerSecond: number;
    /** L2 hit rate of the hot set's chart opens after the first two rounds. */
    readonly on: number | undefined;
    readonly off: number | undefined;
    /** The warmer's SQL statements a second over the run, and its cap. */
    readonly warmStatementsPerSecond: number;
    readonly capPerSecond: number;
  };
}

export interface WarmingOptions {
  readonly fillSeconds: number;
  readonly afterBumpSeconds: number;
  readonly bumpRatePerSecond: number;
  readonly hotMinutes: number;
  readonly hotPatients: number;
}

const CAP = 20;

export async function measureWarming(
  env: Record<string, string>,
  redisUrl: string,
  workload: Workload,
  options: WarmingOptions,
  log: (line: string) => void,
): Promise<WarmingResult> {
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  try {
    const serverEnv = (warm: boolean, prefix: string) => ({
      ...env,
      CACHE_KEY_PREFIX: prefix,
      CACHE_WARM: warm ? 'on' : 'off',
      CACHE_WARM_PHI_TENANTS: 't1,t2',
      CACHE_WARM_MAX_QPS: String(CAP),
    });
    const bump: Partial<Record<'on' | 'off', HitRateSeries & { preBump: number }>> = {};
    for (const mode of ['off', 'on'] as const) {
      await redis.flushDb();
      const prefix = `cgwarm${mode}`;
      const server = await spawnBenchServer('caregraph', serverEnv(mode === 'on', prefix));
      try {
        // The epoch deleted: every entry of L2 is unreadable at once, exactly as after a bump.
        const deleteEpoch = async () => {
          const keys: string[] = [];
          for await (const batch of redis.scanIterator({
            MATCH: `${prefix}:*:epoch`,
            COUNT: 1000,
          })) {
            keys.push(...batch);
          }
          if (keys.length > 0) await redis.del(keys);
        };
        bump[mode] = await bumpUnderLoad(server, deleteEpoch, workload, options);
        log(
          `bench: epoch bump, warming ${mode.padEnd(3)} pre-bump L2 hit ${(bump[mode].preBump * 100).toFixed(1)}%`,
        );
      } finally {
        await server.stop();
      }
    }
    const on = bump.on as HitRateSeries & { preBump: number };
    const off = bump.off as HitRateSeries & { preBump: number };
    const threshold = Math.min(0.8, 0.9 * Math.min(on.preBump, off.preBump));
    const bumpResult = {
      ratePerSecond: options.bumpRatePerSecond,
      threshold,
      on: { ...on, recoverySeconds: recovery(on, threshold) },
      off: { ...off, recoverySeconds: recovery(off, threshold) },
    };
    log(
      `bench: back at ${(threshold * 100).toFixed(0)}% L2 hits after the bump: warming on ` +
        `${String(bumpResult.on.recoverySeconds ?? 'never')} s, off ${String(bumpResult.off.recoverySeconds ?? 'never')} s`,
    );

    await redis.flushDb();
    const [warmOn, warmOff] = await Promise.all([
      spawnBenchServer('caregraph', serverEnv(true, 'cghoton')),
      spawnBenchServer('caregraph', serverEnv(false, 'cghotoff')),
    ]);
    try {
      const hotSet = await hotSetRun([warmOn, warmOff], workload, options);
      log(
        `bench: hot set over ${String(options.hotMinutes)} min: L2 hit ${pct(hotSet.on)} with warming, ` +
          `${pct(hotSet.off)} without; warmer ${hotSet.warmStatementsPerSecond.toFixed(2)} SQL/s (cap ${CAP})`,
      );
      return { bump: bumpResult, hotSet };
    } finally {
      await Promise.all([warmOn.stop(), warmOff.stop()]);
    }
  } finally {
    await redis.close();
  }
}

const pct = (rate: number | undefined) =>
  rate === undefined ? '–' : `${(rate * 100).toFixed(1)}%`;

/** Plays the portal mix at a fixed rate, deletes the epoch mid-run, and samples the hit rate. */
async function bumpUnderLoad(
  server: BenchServer,
  deleteEpoch: () => Promise<void>,
  workload: Workload,
  options: WarmingOptions,
): Promise<HitRateSeries & { preBump: number }> {
  const requests = workload.requests.slice(segmentStart(workload, 'B'));
  const sampler = sampleHitRate(server.origin);
  const driver = pace(server.origin, workload, requests, options.bumpRatePerSecond);
  await sleep(options.fillSeconds * 1000);
  await deleteEpoch();
  const bumpedAt = Date.now();
  await sleep(options.afterBumpSeconds * 1000);
  await driver.stop();
  const samples = await sampler.stop();
  const t = samples.map((s) => Math.round((s.at - bumpedAt) / 100) / 10);
  const hitRate = samples.map((s) => s.rate);
  const before = samples.filter((s) => s.at < bumpedAt && s.at > bumpedAt - 10_000);
  return { t, hitRate, preBump: mean(before.map((s) => s.rate)) };
}

/** The first second after the bump from which two seconds in a row are at the threshold. */
function recovery(series: HitRateSeries, threshold: number): number | undefined {
  for (let i = 0; i + 1 < series.t.length; i++) {
    const t = series.t[i] as number;
    if (t < 0) continue;
    const a = series.hitRate[i];
    const b = series.hitRate[i + 1];
    if (
      a !== null &&
      a !== undefined &&
      b !== null &&
      b !== undefined &&
      a >= threshold &&
      b >= threshold
    ) {
      return t;
    }
  }
  return undefined;
}

async function hotSetRun(
  [warmOn, warmOff]: [BenchServer, BenchServer],
  workload: Workload,
  options: WarmingOptions,
): Promise<WarmingResult['hotSet']> {
  // The hottest patients of the stream's chart opens, and one clinician's open of each.
  const opens = new Map<string, WorkloadRequest>();
  const counts = new Map<string, number>();
  for (const request of workload.requests) {
    if (request.kind !== 'chart') continue;
    const id = request.variables.id ?? '';
    counts.set(id, (counts.get(id) ?? 0) + 1);
    if (!opens.has(id)) opens.set(id, request);
  }
  const hot = [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, options.hotPatients)
    .map(([id]) => opens.get(id) as WorkloadRequest);
  // Each patient about every 75 s: past a record's 60 s and a study's 30 s.
  const ratePerSecond = hot.length / 75;
  const roundMs = 75_000;
  const before = await Promise.all([scrape(warmOn.origin), scrape(warmOff.origin)]);
  const started = Date.now();
  const drivers = [warmOn, warmOff].map((server) =>
    pace(server.origin, workload, hot, ratePerSecond),
  );
  // Two rounds to fill both caches, then the measured stretch.
  await sleep(Math.min(2 * roundMs, (options.hotMinutes * 60_000) / 3));
  const mid = await Promise.all([scrape(warmOn.origin), scrape(warmOff.origin)]);
  await sleep(Math.max(0, options.hotMinutes * 60_000 - (Date.now() - started)));
  await Promise.all(drivers.map((d) => d.stop()));
  const after = await Promise.all([scrape(warmOn.origin), scrape(warmOff.origin)]);
  const seconds = (Date.now() - started) / 1000;
  const rate = (i: number) => {
    const hits =
      (after[i]?.sum('caregraph_cache_requests_total', { layer: 'l2', result: 'hit' }) ?? 0) -
      (mid[i]?.sum('caregraph_cache_requests_total', { layer: 'l2', result: 'hit' }) ?? 0);
    const misses =
      (after[i]?.sum('caregraph_cache_requests_total', { layer: 'l2', result: 'miss' }) ?? 0) -
      (mid[i]?.sum('caregraph_cache_requests_total', { layer: 'l2', result: 'miss' }) ?? 0);
    return hits + misses === 0 ? undefined : hits / (hits + misses);
  };
  const statements =
    after[0].sum('caregraph_cache_warm_statements_total') -
    before[0].sum('caregraph_cache_warm_statements_total');
  return {
    minutes: options.hotMinutes,
    patients: hot.length,
    ratePerSecond,
    on: rate(0),
    off: rate(1),
    warmStatementsPerSecond: statements / seconds,
    capPerSecond: CAP,
  };
}

/** Sends `requests` in order, cycling, at `perSecond`, at most 32 in flight; errors are counted, not fatal. */
function pace(
  origin: string,
  workload: Workload,
  requests: ReadonlyArray<WorkloadRequest>,
  perSecond: number,
): { stop(): Promise<void> } {
  const manifestIds = manifestIdsByName();
  const inFlight = new Set<Promise<void>>();
  let next = 0;
  const started = performance.now();
  let sent = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
    while (sent < due && inFlight.size < 32) {
      const request = requests[next % requests.length] as WorkloadRequest;
      next++;
      sent++;
      const http = toHttpRequest(request, workload.tokens[request.user] ?? '', manifestIds);
      const call = fetch(`${origin}${http.path}`, {
        method: http.method,
        headers: http.headers,
        ...(http.body === undefined ? {} : { body: http.body }),
      })
        .then(async (response) => {
          await response.arrayBuffer();
        })
        .catch(() => undefined)
        .finally(() => inFlight.delete(call));
      inFlight.add(call);
    }
    // Behind by more than the in-flight bound: the server is saturated; skip, do not queue.
    if (due - sent > 32) sent = due;
  }, 10);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(inFlight);
    },
  };
}

/** Scrapes /metrics every second; each sample is the L2 hit rate over the second before it. */
function sampleHitRate(origin: string): {
  stop(): Promise<Array<{ at: number; rate: number | null }>>;
} {
  const samples: Array<{ at: number; rate: number | null }> = [];
  let last: { hits: number; misses: number } | undefined;
  const state = { stopped: false };
  const loop = (async () => {
    while (!state.stopped) {
      const s = await scrape(origin);
      const now = {
        hits: s.sum('caregraph_cache_requests_total', { layer: 'l2', result: 'hit' }),
        misses: s.sum('caregraph_cache_requests_total', { layer: 'l2', result: 'miss' }),
      };
      if (last !== undefined) {
        const hits = now.hits - last.hits;
        const misses = now.misses - last.misses;
        samples.push({ at: Date.now(), rate: hits + misses === 0 ? null : hits / (hits + misses) });
      }
      last = now;
      await sleep(1000);
    }
  })();
  return {
    stop: async () => {
      state.stopped = true;
      await loop;
      return samples;
    },
  };
}

function mean(values: ReadonlyArray<number | null>): number {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? 0 : present.reduce((a, b) => a + b, 0) / present.length;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
