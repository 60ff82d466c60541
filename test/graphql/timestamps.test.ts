import { describe, expect, it } from 'vitest';
import { toIsoTimestamp } from '../../src/graphql/timestamps.js';

describe('toIsoTimestamp', () => {
  it('gives what Date gives, for every form Postgres prints in UTC', () => {
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const two = (n: number) => String(n).padStart(2, '0');
    for (let i = 0; i < 2000; i++) {
      const date = `${String(1970 + next(100))}-${two(1 + next(12))}-${two(1 + next(28))}`;
      const time = `${two(next(24))}:${two(next(60))}:${two(next(60))}`;
      const digits = next(7);
      const fraction = digits === 0 ? '' : `.${String(next(10 ** digits)).padStart(digits, '0')}`;
      // Postgres prints `date time+00`; ISO forms arrive with `T` and `Z` or `+00:00`.
      const form = [' |+00', ' |+00:00', 'T|Z', 'T|+00:00'][next(4)] ?? ' |+00';
      const [separator, zone] = form.split('|');
      const value = `${date}${separator ?? ' '}${time}${fraction}${zone ?? '+00'}`;
      expect(toIsoTimestamp(value), value).toBe(new Date(value).toISOString());
    }
  });

  it('converts other offsets to UTC', () => {
    expect(toIsoTimestamp('2026-01-02 03:04:05.5+02')).toBe('2026-01-02T01:04:05.500Z');
    expect(toIsoTimestamp('2026-01-02 03:04:05-05:30')).toBe('2026-01-02T08:34:05.000Z');
  });

  it('returns an ISO value as it is', () => {
    expect(toIsoTimestamp('2026-01-02T03:04:05.678Z')).toBe('2026-01-02T03:04:05.678Z');
  });

  it('passes a timestamp with no ISO form as Postgres wrote it, so its list still answers', () => {
    for (const value of ['infinity', '-infinity', '0044-03-15 12:00:00+00 BC']) {
      expect(toIsoTimestamp(value)).toBe(value);
    }
  });
});
