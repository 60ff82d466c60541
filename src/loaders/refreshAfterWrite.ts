import type DataLoader from 'dataloader';
import type { EntityName, EntityRows } from '../db/entities.js';
import { RELATIONS, type RelationName } from '../db/relations.js';
import type { Loaders } from './createLoaders.js';

/**
 * Brings the current request's L1 up to date after a committed write: the written row is
 * primed, and, derived from RELATIONS, every list that may contain it is dropped, and so are
 * the row's own lists (a care-team change is a write to its patient).
 */
export function refreshAfterWrite<E extends EntityName>(
  loaders: Loaders,
  entity: E,
  row: EntityRows[E],
): void {
  loaders.invalidated();
  const loader = loaders.entities[entity] as unknown as DataLoader<string, EntityRows[E] | null>;
  loader.clear(row.id).prime(row.id, row);
  for (const name of Object.keys(RELATIONS) as RelationName[]) {
    if (RELATIONS[name].target === entity) loaders.relations[name].clearAll();
    else if (RELATIONS[name].owner === entity) loaders.relations[name].clear(row.id);
  }
}
