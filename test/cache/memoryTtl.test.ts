import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCacheMetrics } from '../../src/cache/cacheMetrics.js';
import { createGuardedStore } from '../../src/cache/guardedStore.js';
import { createL2Cache } from '../../src/cache/l2Cache.js';
import { createMemoryStore } from '../../src/cache/memoryStore.js';
import { createSealer } from '../../src/cache/sealer.js';
import { createLogger } from '../../src/logger.js';
import { Registry } from 'prom-client';

function memoryL2() {
  const metrics = createCacheMetrics(new Registry());
  const store = createGuardedStore(
    createMemoryStore({ maxBytes: 1024 * 1024, onError: () => undefined }),
    { commandTimeoutMs: 1000, resetTimeoutMs: 1000 },
    metrics,
  );
  return createL2Cache({
    store,
    sealer: createSealer([Buffer.alloc(32, 3)]),
    space: { prefix: 'ttl', schemaVersion: 'v', searchKey: Buffer.alloc(32) },
    metrics,
    logger: createLogger({ level: 'silent' }),
  });
}

describe('the in-process L2', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('misses a PHI entry 301 s after it was written, whatever maxAge its caller asked', async () => {
    // Only the clock is faked: Keyv reads Date.now() for expiry, and promises keep running.
    vi.useFakeTimers({ toFake: ['Date'] });
    const l2 = memoryL2();
    const scope = { kind: 'patient', patientId: 'p' } as const;
    const entry = { key: 'ttl:v:t1:Patient:p', scope };
    const writer = l2.forRequest('t1');
    await writer.read([entry]);
    await writer.write([
      { ...entry, value: { id: 'p' }, policy: { cacheClass: 'phi', maxAgeSeconds: 86_400 } },
    ]);

    vi.advanceTimersByTime(299_000);
    await expect(l2.forRequest('t1').read([entry])).resolves.toEqual([{ id: 'p' }]);
    vi.advanceTimersByTime(2_000);
    await expect(l2.forRequest('t1').read([entry])).resolves.toEqual([undefined]);
  });

  it('keeps a reference entry for its directive maxAge', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const l2 = memoryL2();
    const entry = { key: 'ttl:v:t1:Department:d', scope: { kind: 'reference' } as const };
    const writer = l2.forRequest('t1');
    await writer.read([entry]);
    await writer.write([
      { ...entry, value: 'd', policy: { cacheClass: 'reference', maxAgeSeconds: 7_200 } },
    ]);
    vi.advanceTimersByTime(7_100_000);
    await expect(l2.forRequest('t1').read([entry])).resolves.toEqual(['d']);
    vi.advanceTimersByTime(200_000);
    await expect(l2.forRequest('t1').read([entry])).resolves.toEqual([undefined]);
  });
});
