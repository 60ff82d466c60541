import type { EntityName, EntityRows } from '../db/entities.js';
import type { RelationSpec } from '../db/relations.js';
import { isUuid, normalizeId } from '../graphql/ids.js';
import type { BatchLoadDeps } from './batchLoadEntities.js';

/**
 * The one batch-load path for to-many relations: one SQL statement for every owner of the
 * batch, grouped back per owner in key order. Owners with no rows get an empty list.
 */
export async function batchLoadRelation<T extends EntityName>(
  deps: BatchLoadDeps,
  relation: RelationSpec<T>,
  ownerIds: ReadonlyArray<string>,
): Promise<Array<Array<EntityRows[T]>>> {
  const wanted = [...new Set(ownerIds.filter(isUuid).map(normalizeId))];
  if (wanted.length === 0) return ownerIds.map(() => []);
  const linked = await relation.fetch(deps.db, deps.tenantId, wanted);
  const groups = new Map<string, Array<EntityRows[T]>>();
  for (const { ownerId, row } of linked) {
    const group = groups.get(ownerId);
    if (group === undefined) groups.set(ownerId, [row]);
    else group.push(row);
  }
  return ownerIds.map((id) => groups.get(normalizeId(id)) ?? []);
}
