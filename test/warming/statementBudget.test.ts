import { afterEach, describe, expect, it, vi } from 'vitest';
import { createStatementBudget } from '../../src/warming/statementBudget.js';

describe('statement budget', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds a spender to its rate, a batch of several statements included', async () => {
    vi.useFakeTimers();
    const budget = createStatementBudget(10, () => Date.now());
    let spent = 0;
    let finished = Date.now();
    const started = Date.now();
    const spender = (async () => {
      while (Date.now() - started < 10_000) {
        await budget.ready();
        // Batches of 1 to 4 statements.
        const batch = 1 + (spent % 4);
        budget.spend(batch);
        spent += batch;
        finished = Date.now();
      }
    })();
    await vi.advanceTimersByTimeAsync(10_000);
    await vi.advanceTimersByTimeAsync(2_000);
    await spender;
    const seconds = (finished - started) / 1000;
    // 10 a second, plus the one-second burst and the last batch's overdraft (at most 3).
    expect(spent).toBeLessThanOrEqual(10 * seconds + 10 + 3);
    expect(spent).toBeGreaterThanOrEqual(90);
  });
});
