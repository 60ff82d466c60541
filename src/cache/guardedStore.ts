import CircuitBreaker from 'opossum';
import type { CacheMetrics } from './cacheMetrics.js';
import type { CacheEntry, CacheStore, KeyTouch } from './store.js';

export interface GuardOptions {
  /** Every command gives up after this long; the read then goes to Postgres. */
  readonly commandTimeoutMs: number;
  /** How long the breaker stays open before it lets one probe through. */
  readonly resetTimeoutMs: number;
}

/**
 * L2 behind a timeout and a circuit breaker. No method throws: a failed or refused read
 * answers undefined (treat as misses), a failed write answers false. The cache marks L2
 * untrusted when one of its invalidations is lost, and must then flush it logically (an
 * epoch bump) before reading it again.
 */
export interface GuardedStore {
  readonly kind: CacheStore['kind'];
  getMany(keys: ReadonlyArray<string>): Promise<Array<string | undefined> | undefined>;
  /** Writes entries and extends touched keys' TTLs atomically (see `CacheStore.setMany`). */
  setMany(entries: ReadonlyArray<CacheEntry>, touch?: ReadonlyArray<KeyTouch>): Promise<boolean>;
  setManyIfAbsent(entries: ReadonlyArray<CacheEntry>): Promise<boolean[] | undefined>;
  /** True after an outage or a lost invalidation, until `markTrusted()`. */
  readonly untrusted: boolean;
  markTrusted(): void;
  /** Records that an invalidation was lost: L2 must be flushed before it is read again. */
  markUntrusted(): void;
  /** True while the breaker refuses commands. */
  readonly open: boolean;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

type Operation = 'get' | 'set' | 'setIfAbsent' | 'ping';

export function createGuardedStore(
  store: CacheStore,
  options: GuardOptions,
  metrics: CacheMetrics,
): GuardedStore {
  const breaker = new CircuitBreaker((command: () => Promise<unknown>) => command(), {
    timeout: options.commandTimeoutMs,
    resetTimeout: options.resetTimeoutMs,
    errorThresholdPercentage: 50,
    volumeThreshold: 3,
    rollingCountTimeout: 10_000,
  });
  let untrusted = false;
  metrics.breakerState.set(0);
  breaker.on('open', () => {
    metrics.breakerState.set(2);
  });
  breaker.on('halfOpen', () => {
    metrics.breakerState.set(1);
  });
  breaker.on('close', () => {
    metrics.breakerState.set(0);
  });

  async function run<T>(
    op: Operation,
    command: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false }> {
    try {
      const value = (await breaker.fire(async () => {
        // Counted here, so that calls the open breaker refuses are not round trips.
        metrics.l2RoundTrips.inc({ op });
        const endTimer = metrics.l2Duration.startTimer({ op });
        const answer = await command();
        endTimer();
        return answer;
      })) as T;
      return { ok: true, value };
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EOPENBREAKER') metrics.redisErrors.inc({ op });
      return { ok: false };
    }
  }

  return {
    kind: store.kind,
    getMany: async (keys) => {
      if (keys.length === 0) return [];
      const result = await run('get', () => store.getMany(keys));
      return result.ok ? result.value : undefined;
    },
    setMany: async (entries, touch = []) => {
      if (entries.length === 0 && touch.length === 0) return true;
      return (await run('set', () => store.setMany(entries, touch))).ok;
    },
    setManyIfAbsent: async (entries) => {
      if (entries.length === 0) return [];
      const result = await run('setIfAbsent', () => store.setManyIfAbsent(entries));
      return result.ok ? result.value : undefined;
    },
    get untrusted() {
      return untrusted;
    },
    markTrusted: () => {
      untrusted = false;
    },
    markUntrusted: () => {
      untrusted = true;
    },
    get open() {
      return breaker.opened;
    },
    ping: async () => (await run('ping', () => store.ping())).ok,
    close: async () => {
      breaker.shutdown();
      await store.close();
    },
  };
}
