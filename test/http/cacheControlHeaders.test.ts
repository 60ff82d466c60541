import { describe, expect, it } from 'vitest';
import { cacheControlHeaders } from '../../src/http/cacheControl/headers.js';

const ok = { mutation: false, failed: false };

describe('cacheControlHeaders', () => {
  it('marks PHI no-store with the smallest maxAge, at most 300, and Pragma', () => {
    expect(cacheControlHeaders({ phi: true, minMaxAgeSeconds: 30, uncovered: false }, ok)).toEqual([
      ['cache-control', 'no-store, no-cache, must-revalidate, max-age=30'],
      ['pragma', 'no-cache'],
    ]);
    expect(
      cacheControlHeaders({ phi: true, minMaxAgeSeconds: 3600, uncovered: false }, ok)[0]?.[1],
    ).toBe('no-store, no-cache, must-revalidate, max-age=300');
  });

  it('marks reference-only responses private with the smallest maxAge', () => {
    expect(
      cacheControlHeaders({ phi: false, minMaxAgeSeconds: 3600, uncovered: false }, ok),
    ).toEqual([['cache-control', 'private, max-age=3600']]);
  });

  it('marks mutations, errors and data without a policy no-store', () => {
    const reference = { phi: false, minMaxAgeSeconds: 3600, uncovered: false };
    expect(cacheControlHeaders(reference, { mutation: true, failed: false })).toEqual([
      ['cache-control', 'no-store'],
    ]);
    expect(cacheControlHeaders(reference, { mutation: false, failed: true })).toEqual([
      ['cache-control', 'no-store'],
    ]);
    expect(cacheControlHeaders({ ...reference, uncovered: true }, ok)).toEqual([
      ['cache-control', 'no-store'],
    ]);
    expect(
      cacheControlHeaders({ phi: false, minMaxAgeSeconds: Infinity, uncovered: false }, ok),
    ).toEqual([['cache-control', 'no-store']]);
  });
});
