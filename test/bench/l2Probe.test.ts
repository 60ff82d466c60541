import { createClient } from '@keyv/redis';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isEntryKey, keyBatches, probeL2Gets, summarizeLatencies } from '../../bench/l2Probe.js';

const redisUrl = process.env.REDIS_URL;

describe('the unloaded L2 probe', () => {
  it('summarizes latencies by nearest rank, whatever their order', () => {
    const latencies = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summarizeLatencies(latencies)).toEqual({
      samples: 100,
      p50Ms: 51,
      p95Ms: 96,
      p99Ms: 100,
    });
    expect(summarizeLatencies([0.3])).toEqual({ samples: 1, p50Ms: 0.3, p95Ms: 0.3, p99Ms: 0.3 });
    expect(summarizeLatencies([])).toBeUndefined();
  });

  it('draws the same batches from the same keys, whatever order SCAN gave them in', () => {
    const keys = Array.from({ length: 50 }, (_, i) => `cg:v:t:Patient:${String(i)}`);
    const batches = keyBatches(keys, 20, 10, 42);
    expect(batches).toHaveLength(10);
    expect(batches.every((b) => b.length === 20)).toBe(true);
    expect(keyBatches([...keys].reverse(), 20, 10, 42)).toEqual(batches);
    // One batch holds distinct keys, and every key is read once before any is read again.
    expect(new Set(batches[0]).size).toBe(20);
    expect(new Set(batches.slice(0, 2).flat()).size).toBe(40);
    expect(batches.flat().slice(0, 50).sort()).toEqual([...keys].sort());
    expect(keyBatches(keys, 20, 10, 7)).not.toEqual(batches);
  });

  it('draws no batch from fewer keys than one batch needs', () => {
    expect(keyBatches(['a', 'b'], 20, 10, 1)).toEqual([]);
    expect(keyBatches([], 20, 10, 1)).toEqual([]);
  });

  it('reads entries only, never the epoch, generations or documents, nor another prefix', () => {
    expect(isEntryKey('cg:v1:t1:Patient:p1', 'cg')).toBe(true);
    expect(isEntryKey('cg:v1:t1:Patient:p1:records', 'cg')).toBe(true);
    expect(isEntryKey('cg:v1:t1:gen:patient:p1', 'cg')).toBe(false);
    expect(isEntryKey('cg:v1:global:epoch', 'cg')).toBe(false);
    expect(isEntryKey('cg:v1:global:apq:abc', 'cg')).toBe(false);
    expect(isEntryKey('cgbench:v1:t1:Patient:p1', 'cg')).toBe(false);
    expect(isEntryKey('peer:fqc:abc', 'cg')).toBe(false);
  });

  it.skipIf(redisUrl === undefined)('times MGETs of the entries under its prefix', async () => {
    const prefix = `p${randomBytes(5).toString('hex')}`;
    const client = createClient({ url: redisUrl });
    await client.connect();
    try {
      const entries = Array.from({ length: 30 }, (_, i) => `${prefix}:v1:t1:Patient:${String(i)}`);
      await client.mSet(entries.map((key) => [key, 'x'.repeat(500)] as [string, string]));
      await client.set(`${prefix}:v1:t1:gen:reference`, '1');
      const probe = await probeL2Gets(redisUrl ?? '', {
        prefix,
        gets: 25,
        keysPerGet: 20,
        warmUpGets: 5,
        seed: 1,
      });
      expect(probe).toMatchObject({ samples: 25, keys: 30, keysPerGet: 20 });
      expect(probe?.p50Ms).toBeLessThanOrEqual(probe?.p99Ms ?? -1);
      expect(
        await probeL2Gets(redisUrl ?? '', {
          prefix: `${prefix}x`,
          gets: 5,
          keysPerGet: 20,
          warmUpGets: 0,
          seed: 1,
        }),
      ).toBeUndefined();
    } finally {
      await client.del([...(await client.keys(`${prefix}:*`))]);
      await client.quit();
    }
  });
});
