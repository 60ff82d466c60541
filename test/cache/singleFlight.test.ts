import { describe, expect, it } from 'vitest';
import { createSingleFlight } from '../../src/cache/singleFlight.js';

describe('createSingleFlight', () => {
  it('shares one load among concurrent misses for the same key', async () => {
    const flight = createSingleFlight();
    const loads: string[][] = [];
    const load = (keys: string[]) => async (indexes: number[]) => {
      loads.push(indexes.map((i) => keys[i] as string));
      await new Promise((resolve) => setTimeout(resolve, 10));
      return indexes.map((i) => `value of ${keys[i] ?? ''}`);
    };
    const first = ['a@g1', 'b@g1'];
    const second = ['b@g1', 'c@g1'];
    const [x, y] = await Promise.all([
      flight.run(first, load(first)),
      flight.run(second, load(second)),
    ]);
    expect(loads).toEqual([['a@g1', 'b@g1'], ['c@g1']]);
    expect(x).toEqual(['value of a@g1', 'value of b@g1']);
    expect(y).toEqual(['value of b@g1', 'value of c@g1']);
  });

  it('never joins a load read under another generation', async () => {
    const flight = createSingleFlight();
    let loads = 0;
    const load = async (indexes: number[]) => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return indexes.map(() => 'v');
    };
    await Promise.all([flight.run(['a@g1'], load), flight.run(['a@g2'], load)]);
    expect(loads).toBe(2);
  });

  it('lets a later load start once a flight has failed', async () => {
    const flight = createSingleFlight();
    await expect(flight.run(['a@g1'], () => Promise.reject(new Error('down')))).rejects.toThrow(
      'down',
    );
    await expect(
      flight.run(['a@g1'], (indexes) => Promise.resolve(indexes.map(() => 'ok'))),
    ).resolves.toEqual(['ok']);
  });
});
