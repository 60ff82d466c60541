import { PHI_MAX_AGE_CAP_SECONDS, type CachePolicyMap } from '../../policy/cachePolicy.js';

/** What a response resolved, as far as HTTP caching is concerned. */
export interface ResolvedPolicy {
  phi: boolean;
  minMaxAgeSeconds: number;
  /** A field without a policy (the audit trail, say) was resolved. */
  uncovered: boolean;
}

/**
 * The caching headers of a GraphQL response (SPEC §1):
 * - mutations: `no-store` (with `Pragma: no-cache` when they return PHI);
 * - any PHI: `no-store, no-cache, must-revalidate, max-age=<smallest maxAge, at most 300>` and
 *   `Pragma: no-cache`;
 * - reference data only: `private, max-age=<smallest maxAge>`;
 * - errors, and anything without a policy: `no-store`.
 */
export function cacheControlHeaders(
  resolved: ResolvedPolicy,
  options: { mutation: boolean; failed: boolean },
): Array<[string, string]> {
  if (options.mutation) {
    return resolved.phi
      ? [
          ['cache-control', 'no-store'],
          ['pragma', 'no-cache'],
        ]
      : [['cache-control', 'no-store']];
  }
  if (resolved.phi) {
    const maxAge = Math.min(resolved.minMaxAgeSeconds, PHI_MAX_AGE_CAP_SECONDS);
    return [
      ['cache-control', `no-store, no-cache, must-revalidate, max-age=${maxAge}`],
      ['pragma', 'no-cache'],
    ];
  }
  if (options.failed || resolved.uncovered || !Number.isFinite(resolved.minMaxAgeSeconds)) {
    return [['cache-control', 'no-store']];
  }
  return [['cache-control', `private, max-age=${resolved.minMaxAgeSeconds}`]];
}

/**
 * Adds one resolved field to a response's policy. Root fields carry no data of their own (the
 * fields of what they return do), and introspection carries none.
 */
export function recordField(
  resolved: ResolvedPolicy,
  policies: CachePolicyMap,
  parentType: string,
  fieldName: string,
  isRoot: boolean,
): void {
  if (isRoot || fieldName.startsWith('__')) return;
  const policy = policies.get(parentType)?.fields.get(fieldName);
  if (policy === undefined) {
    resolved.uncovered = true;
    return;
  }
  if (policy.cacheClass === 'phi') resolved.phi = true;
  // readCachePolicies refuses a @phi maxAge over 300 s, so no cap is needed here.
  resolved.minMaxAgeSeconds = Math.min(resolved.minMaxAgeSeconds, policy.maxAgeSeconds);
}
