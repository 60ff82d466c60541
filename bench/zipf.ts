import type { Faker } from '@faker-js/faker';

/**
 * Draws ranks 0..n-1 with probability proportional to 1 / (rank + 1)^exponent: a few items are
 * asked for very often and most rarely, as patients' charts are. Deterministic for a seeded
 * faker.
 */
export interface Zipf {
  next(): number;
}

export function createZipf(faker: Faker, n: number, exponent: number): Zipf {
  if (n < 1) throw new Error('a Zipf distribution needs at least one item');
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let rank = 0; rank < n; rank++) {
    total += 1 / (rank + 1) ** exponent;
    cumulative[rank] = total;
  }
  return {
    next: () => {
      const target = faker.number.float({ min: 0, max: total });
      // The first rank whose cumulative weight reaches the target.
      let low = 0;
      let high = n - 1;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if ((cumulative[mid] as number) < target) low = mid + 1;
        else high = mid;
      }
      return low;
    },
  };
}
