import type { EntityName, EntityRows } from '../db/entities.js';
import { RELATIONS } from '../db/relations.js';
import type { GenerationScope } from './cacheKey.js';

/** Entities that `patients(search)` returns; a write to one makes every search stale. */
const SEARCHABLE: ReadonlySet<EntityName> = new Set(['Patient']);

/**
 * The generation scope an entry of this entity is stamped with: a patient's PHI lives and
 * dies with that patient's generation (so a purge is one write), reference data with the
 * tenant's reference generation.
 */
export function scopeOfEntity<E extends EntityName>(
  entity: E,
  row: EntityRows[E],
): GenerationScope {
  return scopeOfOwner(entity, 'patientId' in row ? row.patientId : row.id);
}

/** The scope of an entity known only by its id (or, for records and studies, its patient's). */
export function scopeOfOwner(entity: EntityName, id: string): GenerationScope {
  switch (entity) {
    case 'Patient':
    case 'MedicalRecord':
    case 'Study':
      return { kind: 'patient', patientId: id };
    case 'Doctor':
    case 'Department':
      return { kind: 'reference' };
  }
}

/**
 * Every scope a committed write to this row makes stale, derived from the relations rather
 * than listed per resolver: the row's own scope, the scope of every relation list that holds
 * it, and the searches when the entity is searchable.
 */
export function invalidationScopes<E extends EntityName>(
  entity: E,
  row: EntityRows[E],
): GenerationScope[] {
  const scopes = [scopeOfEntity(entity, row)];
  for (const relation of Object.values(RELATIONS)) {
    if (relation.target !== entity || relation.ownerIdOf === undefined) continue;
    const ownerIdOf = relation.ownerIdOf as (target: EntityRows[E]) => string;
    scopes.push(scopeOfOwner(relation.owner, ownerIdOf(row)));
  }
  if (SEARCHABLE.has(entity)) scopes.push({ kind: 'search' });
  return dedupe(scopes);
}

function dedupe(scopes: GenerationScope[]): GenerationScope[] {
  const seen = new Map(scopes.map((scope) => [JSON.stringify(scope), scope]));
  return [...seen.values()];
}
