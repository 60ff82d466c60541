import {
  PHI_MAX_AGE_CAP_SECONDS,
  type CachePolicyMap,
  type HttpCachePolicy,
} from '../../policy/cachePolicy.js';

export type { HttpCachePolicy };

/** What a response resolved, as far as HTTP caching is concerned. */
export interface ResolvedPolicy {
  phi: boolean;
  minMaxAgeSeconds: number;
  /** A field without a policy (the audit trail, say) was resolved. */
  uncovered: boolean;
}

/**
 * The caching policy of a GraphQL response (SPEC §1):
 * - mutations: `no-store` (with `Pragma: no-cache` when they return PHI);
 * - any PHI: `no-store, no-cache, must-revalidate, max-age=<smallest maxAge, at most 300>` and
 *   `Pragma: no-cache`;
 * - reference data only: `private, max-age=<smallest maxAge>`;
 * - errors, and anything without a policy: `no-store`.
 */
export function httpCachePolicyOf(
  resolved: ResolvedPolicy,
  options: { mutation: boolean; failed: boolean },
): HttpCachePolicy {
  if (options.mutation) return { kind: 'noStore', pragma: resolved.phi };
  if (resolved.phi) {
    return {
      kind: 'phi',
      maxAgeSeconds: Math.min(resolved.minMaxAgeSeconds, PHI_MAX_AGE_CAP_SECONDS),
    };
  }
  if (options.failed || resolved.uncovered || !Number.isFinite(resolved.minMaxAgeSeconds)) {
    return { kind: 'noStore', pragma: false };
  }
  return { kind: 'private', maxAgeSeconds: resolved.minMaxAgeSeconds };
}

/**
 * The most restrictive of several policies (SPEC §4): one PHI read makes the whole response
 * PHI-shaped with the smallest PHI maxAge; otherwise any no-store wins; otherwise the
 * smallest maxAge.
 */
export function mostRestrictive(policies: ReadonlyArray<HttpCachePolicy>): HttpCachePolicy {
  const phi = policies.filter((p) => p.kind === 'phi');
  if (phi.length > 0) {
    return { kind: 'phi', maxAgeSeconds: Math.min(...phi.map((p) => p.maxAgeSeconds)) };
  }
  const noStore = policies.filter((p) => p.kind === 'noStore');
  if (noStore.length > 0 || policies.length === 0) {
    return { kind: 'noStore', pragma: noStore.some((p) => p.pragma) };
  }
  const ages = policies.map((p) => (p.kind === 'private' ? p.maxAgeSeconds : 0));
  return { kind: 'private', maxAgeSeconds: Math.min(...ages) };
}

/** The `Cache-Control` (and `Pragma`) headers of a policy. */
export function headersOf(policy: HttpCachePolicy): Array<[string, string]> {
  switch (policy.kind) {
    case 'phi':
      return [
        [
          'cache-control',
          `no-store, no-cache, must-revalidate, max-age=${Math.min(policy.maxAgeSeconds, PHI_MAX_AGE_CAP_SECONDS)}`,
        ],
        ['pragma', 'no-cache'],
      ];
    case 'noStore':
      return policy.pragma
        ? [
            ['cache-control', 'no-store'],
            ['pragma', 'no-cache'],
          ]
        : [['cache-control', 'no-store']];
    case 'private':
      return [['cache-control', `private, max-age=${policy.maxAgeSeconds}`]];
  }
}

/** The caching headers of a GraphQL response: `headersOf(httpCachePolicyOf(...))`. */
export function cacheControlHeaders(
  resolved: ResolvedPolicy,
  options: { mutation: boolean; failed: boolean },
): Array<[string, string]> {
  return headersOf(httpCachePolicyOf(resolved, options));
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
