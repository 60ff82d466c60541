import { Faker, en } from '@faker-js/faker';
import { describe, expect, it } from 'vitest';
import { createZipf } from '../../bench/zipf.js';

function draws(seed: number, n: number, count: number): number[] {
  const faker = new Faker({ locale: [en] });
  faker.seed(seed);
  const zipf = createZipf(faker, n, 1);
  return Array.from({ length: count }, () => zipf.next());
}

describe('the Zipf sampler', () => {
  it('draws the same ranks for the same seed', () => {
    expect(draws(7, 1000, 200)).toEqual(draws(7, 1000, 200));
    expect(draws(7, 1000, 200)).not.toEqual(draws(8, 1000, 200));
  });

  it('favours low ranks as 1/rank does, and stays in range', () => {
    const ranks = draws(1, 1000, 20_000);
    expect(Math.min(...ranks)).toBe(0);
    expect(Math.max(...ranks)).toBeLessThan(1000);
    const share = (rank: number) => ranks.filter((r) => r === rank).length / ranks.length;
    // Harmonic number H(1000) ≈ 7.49: rank 0 draws about 13%, rank 1 about half of that.
    expect(share(0)).toBeGreaterThan(0.11);
    expect(share(0)).toBeLessThan(0.16);
    expect(share(0) / share(1)).toBeGreaterThan(1.6);
    expect(share(0) / share(1)).toBeLessThan(2.5);
  });
});
