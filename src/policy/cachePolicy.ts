/** The HIPAA cap: no copy of PHI may be cached longer than this, whatever the schema says. */
export const PHI_MAX_AGE_CAP_SECONDS = 300;

export type CacheClass = 'phi' | 'reference';

/** Where an effective policy came from, for `npm run check:schema` and for humans. */
export type PolicySource = 'type' | 'field' | 'type+field';

export interface CachePolicy {
  readonly cacheClass: CacheClass;
  readonly maxAgeSeconds: number;
  readonly source: PolicySource;
}

export interface TypePolicy {
  readonly typeName: string;
  /** The type's own directive, if any. */
  readonly policy: CachePolicy | undefined;
  /** The effective policy of every field that has one (the type's, its own, or both). */
  readonly fields: ReadonlyMap<string, CachePolicy>;
}

/** Type name → policy, read once from the schema's directives at start-up. */
export type CachePolicyMap = ReadonlyMap<string, TypePolicy>;

/** How HTTP clients may cache one response; the operations of a batch merge theirs. */
export type HttpCachePolicy =
  | { readonly kind: 'phi'; readonly maxAgeSeconds: number }
  | { readonly kind: 'private'; readonly maxAgeSeconds: number }
  | { readonly kind: 'noStore'; readonly pragma: boolean };
