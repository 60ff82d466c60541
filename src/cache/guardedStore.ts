import CircuitBreaker from 'opossum';
import type { CacheMetrics } from './cacheMetrics.js';
import { createReplyDeadlines } from './replyDeadlines.js';
import type { CacheEntry, CacheStore, KeyTouch, WarmingCommands } from './store.js';

export interface GuardOptions {
  /**
   * How long L2 may take to answer, in event-loop time: time the process spent on its own work,
   * during which it could not have read a reply, does not count (see `replyDeadlines.ts`).
   * Past it the command counts as failed, and the read goes to Postgres.
   */
  readonly commandTimeoutMs: number;
  /** How long the breaker stays open before it probes L2 again. */
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
  /** True while the breaker refuses commands (open, or half-open with its probe in flight). */
  readonly open: boolean;
  ping(): Promise<boolean>;
  /**
   * The warmer's commands behind the same timeout and breaker; each answers undefined when it
   * failed or was refused. Undefined when the store has none.
   */
  readonly warming: GuardedWarming | undefined;
  /** Opens the store's connection, outside any timeout and the breaker (see `CacheStore.connect`). */
  connect(): Promise<void>;
  close(): Promise<void>;
}

/** WarmingCommands whose answers are undefined on failure. */
export type GuardedWarming = {
  readonly [K in keyof WarmingCommands]: (
    ...args: Parameters<WarmingCommands[K]>
  ) => Promise<Awaited<ReturnType<WarmingCommands[K]>> | undefined>;
};

type Operation = 'get' | 'set' | 'setIfAbsent' | 'ping' | 'hot' | 'lease';

// One labels object per operation, so that counting a round trip allocates nothing.
const LABELS: Readonly<Record<Operation, { readonly op: Operation }>> = {
  get: { op: 'get' },
  set: { op: 'set' },
  setIfAbsent: { op: 'setIfAbsent' },
  ping: { op: 'ping' },
  hot: { op: 'hot' },
  lease: { op: 'lease' },
};

const FAILED = Symbol('failed');

/** What the breaker sees of a failed round trip, already counted: one object, no stack each time. */
const ROUND_TRIP_FAILED = new Error('L2 round trip failed');

/** The breaker's states, as `caregraph_cache_breaker_state` reports them. */
const CLOSED = 0;
const HALF_OPEN = 1;
const OPEN = 2;

export function createGuardedStore(
  store: CacheStore,
  options: GuardOptions,
  metrics: CacheMetrics,
): GuardedStore {
  const deadlines = createReplyDeadlines({ timeoutMs: options.commandTimeoutMs });
  let untrusted = false;

  // Opossum, made cheap: the timeout is `deadlines`' (opossum's own would be a timer per
  // command, measuring the event loop), and it keeps no latency percentiles or snapshots.
  const breaker = new CircuitBreaker(
    async (op: Operation, command: () => Promise<unknown>) => {
      // Counted here, so that calls the open breaker refuses are not round trips.
      const labels = LABELS[op];
      metrics.l2RoundTrips.inc(labels);
      const started = performance.now();
      try {
        const value = await deadlines.within(command());
        metrics.l2Duration.observe(labels, (performance.now() - started) / 1000);
        return value;
      } catch {
        metrics.redisErrors.inc(labels);
        throw ROUND_TRIP_FAILED;
      }
    },
    {
      timeout: false,
      resetTimeout: options.resetTimeoutMs,
      errorThresholdPercentage: 50,
      volumeThreshold: 3,
      rollingCountTimeout: 10_000,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    },
  );
  metrics.breakerState.set(CLOSED);
  breaker.on('open', () => {
    metrics.breakerState.set(OPEN);
  });
  breaker.on('close', () => {
    metrics.breakerState.set(CLOSED);
  });
  // Half-open, opossum waits for a caller to volunteer as its probe: with no traffic it would
  // stay half-open for good. The guard probes at once instead (a PING), so that the breaker
  // closes by itself within its reset interval once Redis answers (SPEC §2.8).
  // A probe that fails twice running drops the connection for a new one: what stops answering
  // may be the connection, not Redis (see `CacheStore.reconnect`).
  let failedProbes = 0;
  breaker.on('halfOpen', () => {
    metrics.breakerState.set(HALF_OPEN);
    void run('ping', () => store.ping()).then((result) => {
      failedProbes = result === FAILED ? failedProbes + 1 : 0;
      if (failedProbes >= 2) {
        failedProbes = 0;
        store.reconnect?.();
      }
    });
  });

  async function run<T>(op: Operation, command: () => Promise<T>): Promise<T | typeof FAILED> {
    try {
      return (await breaker.fire(op, command)) as T;
    } catch {
      // Refused while open, or failed (and counted): a miss either way.
      return FAILED;
    }
  }

  function guardWarming(commands: WarmingCommands): GuardedWarming {
    const guarded =
      <A extends unknown[], T>(op: Operation, command: (...args: A) => Promise<T>) =>
      async (...args: A): Promise<T | undefined> => {
        const result = await run(op, () => command(...args));
        return result === FAILED ? undefined : result;
      };
    return {
      addToHotSet: guarded('hot', commands.addToHotSet),
      readHotSet: guarded('hot', commands.readHotSet),
      hotSetSizes: guarded('hot', commands.hotSetSizes),
      holdLease: guarded('lease', commands.holdLease),
      releaseLease: guarded('lease', commands.releaseLease),
      usedMemoryBytes: guarded('hot', commands.usedMemoryBytes),
    };
  }

  return {
    kind: store.kind,
    getMany: async (keys) => {
      if (keys.length === 0) return [];
      const result = await run('get', () => store.getMany(keys));
      return result === FAILED ? undefined : result;
    },
    setMany: async (entries, touch = []) => {
      if (entries.length === 0 && touch.length === 0) return true;
      return (await run('set', () => store.setMany(entries, touch))) !== FAILED;
    },
    setManyIfAbsent: async (entries) => {
      if (entries.length === 0) return [];
      const result = await run('setIfAbsent', () => store.setManyIfAbsent(entries));
      return result === FAILED ? undefined : result;
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
      return !breaker.closed;
    },
    ping: async () => (await run('ping', () => store.ping())) !== FAILED,
    warming: store.warming === undefined ? undefined : guardWarming(store.warming),
    connect: async () => {
      await store.connect?.();
    },
    close: async () => {
      breaker.shutdown();
      deadlines.close();
      await store.close();
    },
  };
}
