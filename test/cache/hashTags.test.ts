import { describe, expect, it } from 'vitest';
import { buildCacheKey, type KeySpace } from '../../src/cache/cacheKey.js';

const space: KeySpace = { prefix: 'cg', schemaVersion: 'v1', searchKey: Buffer.alloc(32, 7) };
const P = '0b7c6a52-3f1e-4c55-9d0e-6a1f2b3c4d5e';
const R = '1c8d7b63-4f2f-4d66-8e1f-7b2a3c4d5e6f';

/** The hash tag Redis Cluster routes a key by: the first `{…}` with something in it. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = key.indexOf('}', open + 1);
  return key.slice(open + 1, close);
}

describe('hash tags', () => {
  it('put one patient’s entries, lists and generation in one slot', () => {
    const keys = [
      buildCacheKey(space, { kind: 'entity', tenantId: 't1', type: 'Patient', id: P }),
      buildCacheKey(space, {
        kind: 'entity',
        tenantId: 't1',
        type: 'MedicalRecord',
        id: R,
        patientId: P,
      }),
      buildCacheKey(space, { kind: 'entity', tenantId: 't1', type: 'Study', id: R, patientId: P }),
      buildCacheKey(space, {
        kind: 'list',
        tenantId: 't1',
        owner: 'Patient',
        ownerId: P,
        field: 'records',
      }),
      buildCacheKey(space, {
        kind: 'generation',
        tenantId: 't1',
        scope: { kind: 'patient', patientId: P },
      }),
    ];
    expect(new Set(keys.map(hashTag))).toEqual(new Set([`t1:p:${P}`]));
  });

  it('put a tenant’s reference data, searches and tenant-wide generations in the tenant’s slot', () => {
    const keys = [
      buildCacheKey(space, { kind: 'entity', tenantId: 't2', type: 'Doctor', id: R }),
      buildCacheKey(space, {
        kind: 'list',
        tenantId: 't2',
        owner: 'Department',
        ownerId: R,
        field: 'doctors',
      }),
      buildCacheKey(space, { kind: 'search', tenantId: 't2', view: 'tenant', term: 'x', first: 5 }),
      buildCacheKey(space, { kind: 'generation', tenantId: 't2', scope: { kind: 'reference' } }),
      buildCacheKey(space, { kind: 'generation', tenantId: 't2', scope: { kind: 'tenant' } }),
    ];
    expect(new Set(keys.map(hashTag))).toEqual(new Set(['t2']));
    expect(hashTag(buildCacheKey(space, { kind: 'epoch' }))).toBe('global');
    expect(hashTag(buildCacheKey(space, { kind: 'document', hash: 'ab' }))).toBe('global');
  });

  it('refuses a record’s key without its patient, rather than put it in another slot', () => {
    expect(() =>
      buildCacheKey(space, { kind: 'entity', tenantId: 't1', type: 'MedicalRecord', id: R }),
    ).toThrow(/needs its patient/);
  });
});

describe('the warmer’s keys', () => {
  it('keep hot sets outside the schema version, so that usage refills a new namespace, one slot per tenant', () => {
    const key = buildCacheKey(space, { kind: 'hotSet', tenantId: 't1', type: 'Patient' });
    const other = buildCacheKey(
      { ...space, schemaVersion: 'v2' },
      { kind: 'hotSet', tenantId: 't1', type: 'Patient' },
    );
    expect(key).toBe(other);
    expect(key).toBe('cg:{t1}:hot:Patient');
    expect(hashTag(key)).toBe('t1');
  });

  it('keep one lease per deployment, whatever schema versions its instances run', () => {
    const lease = buildCacheKey(space, { kind: 'warmLease' });
    expect(lease).toBe('cg:{global}:warm:lease');
    expect(buildCacheKey({ ...space, schemaVersion: 'v2' }, { kind: 'warmLease' })).toBe(lease);
  });
});
