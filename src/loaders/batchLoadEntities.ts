import type { Database } from '../db/client.js';
import { fetchEntityRows, type EntityName, type EntityRows } from '../db/entities.js';
import { isUuid, normalizeId } from '../graphql/ids.js';

export interface BatchLoadDeps {
  readonly db: Database;
  readonly tenantId: string;
}

/**
 * The one batch-load path for entities by id: every entity loader calls it once per batch.
 * It issues at most one SQL statement and answers in key order, with null for ids that are
 * malformed, missing or of another tenant, so one bad id never fails its batch.
 */
export async function batchLoadEntities<E extends EntityName>(
  deps: BatchLoadDeps,
  entity: E,
  ids: ReadonlyArray<string>,
): Promise<Array<EntityRows[E] | null>> {
  const wanted = [...new Set(ids.filter(isUuid).map(normalizeId))];
  if (wanted.length === 0) return ids.map(() => null);
  const rows = await fetchEntityRows(deps.db, entity, deps.tenantId, wanted);
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(normalizeId(id)) ?? null);
}
