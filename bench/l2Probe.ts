/**
 * The unloaded L2 get probe: with a warm L2 and nothing else running, sequential MGETs of real
 * cache keys, timed from the bench process. Under load the server's own histogram times its
 * event loop as much as Redis; this is what Redis and the network cost alone.
 */
import { createClient } from '@keyv/redis';
import { performance } from 'node:perf_hooks';

export interface LatencySummary {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
}

export interface L2Probe extends LatencySummary {
  /** Distinct keys found under the prefix and drawn from. */
  readonly keys: number;
  readonly keysPerGet: number;
}

export interface L2ProbeOptions {
  /** The server's CACHE_KEY_PREFIX: only its keys are read. */
  readonly prefix: string;
  readonly gets: number;
  readonly keysPerGet: number;
  /** Untimed MGETs first, for the connection and the JIT. */
  readonly warmUpGets: number;
  readonly seed: number;
}

// Enough to vary the batches; a full L2 holds far more, and SCANning them all is not the probe.
const MAX_KEYS = 20_000;

/**
 * p50/p95/p99 of a set of latencies (nearest rank, as the load generator reports its own).
 *
 * @returns undefined for no samples.
 */
export function summarizeLatencies(latenciesMs: ReadonlyArray<number>): LatencySummary | undefined {
  if (latenciesMs.length === 0) return undefined;
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { samples: sorted.length, p50Ms: at(0.5), p95Ms: at(0.95), p99Ms: at(0.99) };
}

/**
 * `count` batches of `size` keys each, drawn in a seeded shuffle of `keys` and cycled through,
 * so that the same keys give the same batches and one batch mixes entries of every kind.
 *
 * @returns no batches when there are fewer keys than one batch needs.
 */
export function keyBatches(
  keys: ReadonlyArray<string>,
  size: number,
  count: number,
  seed: number,
): string[][] {
  if (size < 1 || keys.length < size) return [];
  const shuffled = [...keys].sort();
  let state = seed >>> 0 || 1;
  // xorshift32: deterministic and good enough to mix key kinds; not for anything secret.
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] as string, shuffled[i] as string];
  }
  const batches: string[][] = [];
  for (let b = 0; b < count; b++) {
    const batch: string[] = [];
    for (let k = 0; k < size; k++) batch.push(shuffled[(b * size + k) % shuffled.length] as string);
    batches.push(batch);
  }
  return batches;
}

/** Cache entries only: the epoch, generations and persisted documents are control values. */
export function isEntryKey(key: string, prefix: string): boolean {
  return key.startsWith(`${prefix}:`) && !key.includes(':gen:') && !key.includes(':global:');
}

/**
 * Times sequential MGETs of real entries under `prefix` in the Redis of `url`.
 *
 * @returns the latencies, or undefined when L2 holds too few entries for one MGET.
 */
export async function probeL2Gets(
  url: string,
  options: L2ProbeOptions,
): Promise<L2Probe | undefined> {
  const client = createClient({ url });
  await client.connect();
  try {
    const keys: string[] = [];
    for await (const found of client.scanIterator({ MATCH: `${options.prefix}:*`, COUNT: 1000 })) {
      keys.push(...found.filter((key) => isEntryKey(key, options.prefix)));
      if (keys.length >= MAX_KEYS) break;
    }
    const batches = keyBatches(
      keys,
      options.keysPerGet,
      options.warmUpGets + options.gets,
      options.seed,
    );
    if (batches.length === 0) return undefined;
    const latencies: number[] = [];
    for (const [i, batch] of batches.entries()) {
      const started = performance.now();
      await client.mGet(batch);
      if (i >= options.warmUpGets) latencies.push(performance.now() - started);
    }
    const summary = summarizeLatencies(latencies);
    return summary === undefined
      ? undefined
      : { ...summary, keys: keys.length, keysPerGet: options.keysPerGet };
  } finally {
    await client.quit();
  }
}
