import { describe, expect, it } from 'vitest';
import { restartDelayMs } from '../../src/cluster/runPrimary.js';

describe('restartDelayMs', () => {
  it('replaces a worker that had been running at once', () => {
    expect(restartDelayMs(0)).toBe(0);
  });

  it('doubles the wait for each worker in a row that died soon after starting, up to 30 s', () => {
    expect([1, 2, 3, 4].map(restartDelayMs)).toEqual([250, 500, 1000, 2000]);
    expect(restartDelayMs(20)).toBe(30_000);
  });
});
