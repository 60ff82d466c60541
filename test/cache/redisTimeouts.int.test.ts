import { createClient } from '@keyv/redis';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCacheMetrics } from '../../src/cache/cacheMetrics.js';
import { createGuardedStore, type GuardedStore } from '../../src/cache/guardedStore.js';
import { createRedisStore } from '../../src/cache/redisStore.js';
import { metricValue } from '../support/metricValue.js';
import { freePort, redisProcess, type RedisProcess } from '../support/redisServer.js';

type Admin = ReturnType<typeof createClient>;

/** Keeps the process busy, as a loaded host's own work does. */
const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

/** Calls of one command that Redis has served since it started, from INFO commandstats. */
async function served(admin: Admin, command: string): Promise<number> {
  const info = await admin.info('commandstats');
  const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
  return Number(match?.[1] ?? 0);
}

// A redis-server of the test's own, so that INFO commandstats counts this client's commands
// only, and DEBUG SLEEP stalls nobody else.
describe.runIf(process.env.REDIS_URL !== undefined)('L2 timeouts against a real Redis', () => {
  let redis: RedisProcess;
  let admin: Admin;
  let registry: Registry;
  let store: GuardedStore;
  /** Every call that set the breaker's gauge (2 is open). */
  let breakerStates: unknown[][];

  beforeAll(async () => {
    redis = redisProcess(await freePort());
    await redis.start();
    admin = createClient({ url: redis.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.quit();
    await redis.kill();
  });
  beforeEach(async () => {
    registry = new Registry();
    const metrics = createCacheMetrics(registry);
    // Spied, not replaced: the gauge is still set as in production.
    breakerStates = vi.spyOn(metrics.breakerState, 'set').mock.calls;
    store = createGuardedStore(
      createRedisStore({ url: redis.url, onError: () => undefined }),
      { commandTimeoutMs: 50, resetTimeoutMs: 300 },
      metrics,
    );
    expect(await store.ping()).toBe(true);
  });
  afterEach(async () => {
    await store.close();
  });

  const errors = () => metricValue(registry, 'caregraph_redis_errors_total');

  it('keeps sending commands after queued commands waited behind a busy event loop', async () => {
    // Two reads issued from a setImmediate, as the DataLoader batch window issues them; the
    // process is then busy for 150 ms before the client's own write could run.
    const reads = await new Promise<Array<Promise<unknown>>>((resolve) => {
      setImmediate(() => {
        resolve([store.getMany(['wedge:a']), store.getMany(['wedge:b'])]);
      });
      setImmediate(() => {
        busy(150);
      });
    });
    await Promise.all(reads);
    const mgets = await served(admin, 'mget');
    const execs = await served(admin, 'exec');

    // Commands still reach Redis afterwards: a read, and a MULTI write.
    expect(await store.getMany(['wedge:c'])).toEqual([undefined]);
    expect(await store.setMany([{ key: 'wedge:d', value: 'v', ttlMs: 10_000 }])).toBe(true);
    expect(await served(admin, 'mget')).toBe(mgets + 1);
    expect(await served(admin, 'exec')).toBe(execs + 1);
    // And the reads that waited behind the loop were answered, not failed.
    await expect(Promise.all(reads)).resolves.toEqual([[undefined], [undefined]]);
    expect(await errors()).toBe(0);
    expect(store.open).toBe(false);
  });

  it('does not fail round trips that wait behind a busy event loop, reads or writes', async () => {
    const reads = Array.from({ length: 20 }, (_, i) => store.getMany([`busy:${i}`, `busy:x${i}`]));
    const writes = Array.from({ length: 5 }, (_, i) =>
      store.setMany([{ key: `busy:w${i}`, value: '\u0000\u{1F600}'.repeat(1000), ttlMs: 10_000 }]),
    );
    busy(300);
    await Promise.all([...reads, ...writes]);
    setImmediate(() => {
      busy(200);
    });
    const more = await Promise.all(reads.map((_, i) => store.getMany([`busy:w${i % 5}`])));
    expect(await Promise.all(writes)).toEqual([true, true, true, true, true]);
    expect((await Promise.all(reads)).every((r) => r !== undefined)).toBe(true);
    expect(more.every((r) => r?.[0] !== undefined)).toBe(true);
    expect(await errors()).toBe(0);
    expect(await metricValue(registry, 'caregraph_cache_breaker_state')).toBe(0);
  });

  it('fails a round trip long before Redis answers when Redis itself stalls', async () => {
    const order: string[] = [];
    const sleeping = admin
      .sendCommand(['DEBUG', 'SLEEP', '1'])
      .then(() => order.push('redis woke'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const read = store.getMany(['stall:a']).then((r) => {
      order.push('read settled');
      return r;
    });
    expect(await read).toBeUndefined();
    await sleeping;
    expect(order).toEqual(['read settled', 'redis woke']);
    expect(await metricValue(registry, 'caregraph_redis_errors_total', { op: 'get' })).toBe(1);
  });

  it('fails a round trip before Redis answers when Redis stalls while the loop stays busy', async () => {
    const order: string[] = [];
    const sleeping = admin
      .sendCommand(['DEBUG', 'SLEEP', '2'])
      .then(() => order.push('redis woke'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The loop is busy in 30 ms slices, never idle, until Redis wakes.
    let spinning = true;
    const spin = () => {
      busy(30);
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const read = store.getMany(['stall:b']).then((r) => {
      order.push('read settled');
      return r;
    });
    expect(await read).toBeUndefined();
    spinning = false;
    await sleeping;
    expect(order).toEqual(['read settled', 'redis woke']);
  });
  it('closes its breaker within the reset interval once a stall under a busy loop ends, and commands flow', async () => {
    // The soak's shape (issue 12): reads and MULTI writes issued batch after batch while the
    // loop is busy in 20 ms slices, and Redis stalls in the middle of it.
    let running = true;
    let n = 0;
    const inFlight: Array<Promise<unknown>> = [];
    const load = () => {
      if (!running) return;
      for (let i = 0; i < 5; i++, n++) {
        inFlight.push(store.getMany([`soak:${String(n)}`, `soak:x${String(n)}`]));
        inFlight.push(store.setMany([{ key: `soak:${String(n)}`, value: 'v', ttlMs: 10_000 }]));
      }
      busy(20);
      setImmediate(load);
    };
    setImmediate(load);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await admin.sendCommand(['DEBUG', 'SLEEP', '0.5']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    running = false;
    await Promise.allSettled(inFlight);
    // The stall was seen, and the breaker opened on it (whenever the loop got to look).
    expect(await errors()).toBeGreaterThan(0);
    expect(breakerStates.some((call) => call.includes(2))).toBe(true);
    const stoppedAt = performance.now();
    // Traffic has stopped: the breaker closes by itself, within its reset interval (300 ms)
    // and one PING, without a request to push it.
    while (store.open && performance.now() - stoppedAt < 1_000) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(store.open).toBe(false);
    expect(performance.now() - stoppedAt).toBeLessThan(300 + 200);
    // And commands reach Redis again, reads and writes, with no new failure.
    const failed = await errors();
    const mgets = await served(admin, 'mget');
    const execs = await served(admin, 'exec');
    expect(await store.getMany(['soak:after'])).toEqual([undefined]);
    expect(await store.setMany([{ key: 'soak:after', value: 'v', ttlMs: 10_000 }])).toBe(true);
    expect(await served(admin, 'mget')).toBe(mgets + 1);
    expect(await served(admin, 'exec')).toBe(execs + 1);
    expect(await errors()).toBe(failed);
  });
});
