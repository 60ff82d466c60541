import { describe, expect, it } from 'vitest';
import { counterOfToken, freshToken, isControlToken } from '../../src/cache/controlValues.js';
import { parseInvalidation, parseScopeName } from '../../src/cache/invalidationFeed.js';
import { createInvalidationFloors } from '../../src/cache/invalidationFloors.js';

const PATIENT = '0b7c6a52-3f1e-4c55-9d0e-6a1f2b3c4d5e';

describe('generation tokens', () => {
  it('carry the invalidation they were made at, and stay control tokens', () => {
    for (const counter of [0, 1, 35, 36, 1_000_000, Number.MAX_SAFE_INTEGER]) {
      const token = freshToken(counter);
      expect(isControlToken(token)).toBe(true);
      expect(counterOfToken(token)).toBe(counter);
    }
    // A token of the old format (random part only) reads as made at 0.
    expect(counterOfToken('AAAAAAAAAAAAAAAA')).toBe(0);
    expect(freshToken(5)).not.toBe(freshToken(5));
  });

  it('refuse a counter part that is not base 36', () => {
    expect(isControlToken('AAAAAAAAAAAAAAAA-z')).toBe(false);
    expect(isControlToken('AAAAAAAAAAAAAAAAZZ')).toBe(false);
    expect(isControlToken(`AAAAAAAAAAAAAAAA${'z'.repeat(13)}`)).toBe(false);
  });
});

describe('invalidation floors', () => {
  it('only ever rise', () => {
    const floors = createInvalidationFloors();
    expect(floors.floorOf('k')).toBe(0);
    expect(floors.raise('k', 7, false)).toBe(true);
    expect(floors.raise('k', 3, false)).toBe(false);
    expect(floors.raise('k', 7, false)).toBe(false);
    expect(floors.floorOf('k')).toBe(7);
    expect(floors.raise('r', 2, true)).toBe(true);
    expect(floors.floorOf('r')).toBe(2);
  });
});

describe('invalidation payloads', () => {
  it('parse what publishInvalidation sends, from NOTIFY (numbers) or rows (bigint as text)', () => {
    const scopes = [`patient:${PATIENT}`, 'search', 'reference', 'tenant'];
    expect(parseInvalidation({ seq: 12, tenant: 't1', scopes })).toEqual({
      seq: 12,
      tenantId: 't1',
      scopes: [
        { kind: 'patient', patientId: PATIENT },
        { kind: 'search' },
        { kind: 'reference' },
        { kind: 'tenant' },
      ],
    });
    expect(parseInvalidation({ seq: '12', tenant: 't1', scopes: [] })?.seq).toBe(12);
  });

  it('refuse anything else any database user could NOTIFY', () => {
    for (const hostile of [
      null,
      'x',
      [],
      { seq: 0, tenant: 't1', scopes: [] },
      { seq: -1, tenant: 't1', scopes: [] },
      { seq: 1.5, tenant: 't1', scopes: [] },
      { seq: '9'.repeat(30), tenant: 't1', scopes: [] },
      { seq: 1, tenant: '', scopes: [] },
      { seq: 1, tenant: 5, scopes: [] },
      { seq: 1, tenant: 't1', scopes: 'search' },
      { ping: 'someone' },
    ]) {
      expect(parseInvalidation(hostile)).toBeUndefined();
    }
    // Scopes it cannot name are dropped, never guessed at.
    for (const name of ['patient:', 'patient:x', `patient:${PATIENT}\u0000`, 'Search', 42, null]) {
      expect(parseScopeName(name)).toBeUndefined();
    }
  });
});
