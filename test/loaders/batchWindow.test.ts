import DataLoader from 'dataloader';
import { describe, expect, it } from 'vitest';
import { createBatchWindow } from '../../src/loaders/batchWindow.js';

const later = <T>(value: T, ms: number) =>
  new Promise<T>((resolve) => {
    setTimeout(() => {
      resolve(value);
    }, ms);
  });

describe('createBatchWindow', () => {
  it('joins loads that siblings trigger at different times into one batch', async () => {
    const window = createBatchWindow();
    const batches: string[][] = [];
    const options = { batchScheduleFn: window.schedule };
    const doctors = new DataLoader(async (ids: readonly string[]) => {
      batches.push([...ids]);
      return window.track(() =>
        later(
          ids.map((id) => `doctor ${id}`),
          1,
        ),
      );
    }, options);
    // Two sibling lists that return at different times, each asking for doctors when it does.
    const records = new DataLoader(
      (ids: readonly string[]) =>
        window.track(() =>
          later(
            ids.map(() => 'a'),
            5,
          ),
        ),
      options,
    );
    const studies = new DataLoader(
      (ids: readonly string[]) =>
        window.track(() =>
          later(
            ids.map(() => 'b'),
            30,
          ),
        ),
      options,
    );
    await Promise.all([
      records.load('p').then(() => doctors.load('a')),
      studies.load('p').then(() => doctors.load('b')),
    ]);
    expect(batches).toEqual([['a', 'b']]);
  });

  it('dispatches at once when nothing is in flight', async () => {
    const window = createBatchWindow();
    const loader = new DataLoader(
      async (ids: readonly string[]) => window.track(() => Promise.resolve(ids)),
      {
        batchScheduleFn: window.schedule,
      },
    );
    await expect(Promise.all([loader.load('x'), loader.load('y')])).resolves.toEqual(['x', 'y']);
  });

  it('keeps dispatching after a batch fails', async () => {
    const window = createBatchWindow();
    let fail = true;
    const loader = new DataLoader<string, string>(
      (ids) =>
        window.track(() =>
          fail ? Promise.reject(new Error('database down')) : Promise.resolve(ids),
        ),
      { batchScheduleFn: window.schedule, cache: false },
    );
    await expect(loader.load('x')).rejects.toThrow('database down');
    fail = false;
    await expect(loader.load('y')).resolves.toBe('y');
  });
});
