import { describe, expect, it } from 'vitest';
import { instantOfMicros, parseInstant } from '../../src/graphql/instants.js';

describe('parseInstant', () => {
  it('brings an instant with any offset to UTC, to the microsecond', () => {
    expect(parseInstant('2026-01-02T03:04:05.123456Z')?.iso).toBe('2026-01-02T03:04:05.123456Z');
    expect(parseInstant('2026-01-02T04:04:05.1+01:00')?.iso).toBe('2026-01-02T03:04:05.100000Z');
    expect(parseInstant('2026-01-01T23:30-0400')?.iso).toBe('2026-01-02T03:30:00.000000Z');
    expect(parseInstant('2026-01-02T03:04:05.123456789Z')?.iso).toBe('2026-01-02T03:04:05.123456Z');
  });

  it('reads a date alone as midnight UTC', () => {
    expect(parseInstant('2026-03-01')?.iso).toBe('2026-03-01T00:00:00.000000Z');
    expect(parseInstant('0050-01-01')?.iso).toBe('0050-01-01T00:00:00.000000Z');
  });

  it('orders instants one microsecond apart', () => {
    const a = parseInstant('2026-01-02T03:04:05.000001Z')?.micros ?? 0n;
    const b = parseInstant('2026-01-02T03:04:05.000002Z')?.micros ?? 0n;
    expect(b - a).toBe(1n);
  });

  it.each([
    '2026-01-02T03:04:05',
    '2026-02-30',
    '2026-13-01',
    '2026-01-02T24:00:00Z',
    '2026-01-02T03:04:05+25:00',
    '2026-01-02 03:04:05Z',
    'yesterday',
    '',
  ])('refuses %j', (text) => {
    expect(parseInstant(text)).toBeUndefined();
  });
});

describe('instantOfMicros', () => {
  it('formats instants before the epoch', () => {
    expect(instantOfMicros(-1n)?.iso).toBe('1969-12-31T23:59:59.999999Z');
  });
});
