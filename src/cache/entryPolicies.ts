import { ENTITY_NAMES, type EntityName } from '../db/entities.js';
import { RELATIONS, type RelationName } from '../db/relations.js';
import type { CachePolicy, CachePolicyMap } from '../policy/cachePolicy.js';

export type EntryPolicy = Pick<CachePolicy, 'cacheClass' | 'maxAgeSeconds'>;

/** The policy of every kind of L2 entry, derived once from the schema's directives. */
export interface EntryPolicies {
  readonly entities: ReadonlyMap<EntityName, EntryPolicy>;
  readonly relations: ReadonlyMap<RelationName, EntryPolicy>;
  readonly search: EntryPolicy | undefined;
}

/**
 * An entity entry holds every field of its row, so it lives only as long as its freshest
 * field may: the smallest maxAge among the type and its fields (a Study lives 30 s because of
 * `reportStatus`). Splitting entries by TTL class would save bytes, not statements: a row
 * with an expired part still takes its place in the one statement the batch's misses share. A relation list (ids only) takes the policy of
 * its owner's field, and a search the policy of the type it returns.
 */
export function deriveEntryPolicies(policies: CachePolicyMap): EntryPolicies {
  const entities = new Map<EntityName, EntryPolicy>();
  for (const entity of ENTITY_NAMES) {
    const type = policies.get(entity);
    if (type === undefined) continue;
    const all = [...(type.policy ? [type.policy] : []), ...type.fields.values()];
    if (all.length === 0) continue;
    entities.set(entity, {
      cacheClass: all.some((p) => p.cacheClass === 'phi') ? 'phi' : 'reference',
      maxAgeSeconds: Math.min(...all.map((p) => p.maxAgeSeconds)),
    });
  }
  const relations = new Map<RelationName, EntryPolicy>();
  for (const [name, relation] of Object.entries(RELATIONS) as Array<
    [RelationName, (typeof RELATIONS)[RelationName]]
  >) {
    const field = relation.name.split('.')[1] ?? '';
    const policy = policies.get(relation.owner)?.fields.get(field);
    if (policy !== undefined) relations.set(name, policy);
  }
  return { entities, relations, search: policies.get('Patient')?.policy };
}
