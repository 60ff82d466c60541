import { describe, expect, it } from 'vitest';
import { createCacheMetrics } from '../../src/cache/cacheMetrics.js';
import { createGuardedStore } from '../../src/cache/guardedStore.js';
import { createRedisStore } from '../../src/cache/redisStore.js';
import { Registry } from 'prom-client';
import { tcpProxy } from '../support/tcpProxy.js';

const redisUrl = process.env.REDIS_URL;

// A connection that dies without a FIN or RST looks open to the client, which has no
// per-command timeout: only the guard's reconnect after failed probes brings L2 back.
describe.runIf(redisUrl !== undefined)('a Redis connection that dies silently', () => {
  it('is replaced after the breaker’s probes fail, and L2 answers again without a restart', async () => {
    const target = new URL(redisUrl ?? '');
    const proxy = await tcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const metrics = createCacheMetrics(new Registry());
    const resetMs = 300;
    const store = createGuardedStore(
      createRedisStore({
        url: `redis://127.0.0.1:${String(proxy.port)}`,
        onError: () => undefined,
      }),
      { commandTimeoutMs: 50, resetTimeoutMs: resetMs },
      metrics,
    );
    const key = `silent:${String(Date.now())}`;
    try {
      await store.connect();
      expect(await store.setMany([{ key, value: 'v', ttlMs: 60_000 }])).toBe(true);
      expect(await store.getMany([key])).toEqual(['v']);
      proxy.blackhole();
      // Reads fail (timed out) and open the breaker.
      for (let i = 0; i < 5; i++) expect(await store.getMany([key])).toBeUndefined();
      const blackholedAt = Date.now();
      let answered: unknown;
      while (Date.now() - blackholedAt < 15_000) {
        answered = await store.getMany([key]);
        if (answered !== undefined) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(answered).toEqual(['v']);
      // Two failed probes, a reconnect, then the probe that closes the breaker: a few resets.
      expect(Date.now() - blackholedAt).toBeLessThan(10 * resetMs + 3_000);
      expect(store.open).toBe(false);
    } finally {
      await store.close();
      await proxy.close();
    }
  });
});
