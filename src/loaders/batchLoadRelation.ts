import { buildCacheKey } from '../cache/cacheKey.js';
import { scopeOfOwner } from '../cache/scopes.js';
import type { EntityName, EntityRows } from '../db/entities.js';
import type { RelationName, RelationSpec } from '../db/relations.js';
import { isUuid, normalizeId } from '../graphql/ids.js';
import type { EntryWrite } from '../cache/l2Cache.js';
import { countL2Lookups } from './lookupTally.js';
import { entityEntries, flightKey, learnPatient, type BatchLoadDeps } from './batchLoadEntities.js';

export interface RelationBatch<T extends EntityName> {
  /** Target ids per owner, in key order and display order. */
  readonly ids: string[][];
  /** Target rows fetched from Postgres by this batch, for priming the entity loader. */
  readonly rows: Array<EntityRows[T]>;
}

/**
 * The one batch-load path for to-many relations. Lists are cached in L2 as ids under their
 * owner's generation; misses take one SQL statement for every owner of the batch, whose rows
 * are cached as entities too.
 */
export async function batchLoadRelation<T extends EntityName>(
  deps: BatchLoadDeps,
  name: RelationName,
  relation: RelationSpec<T>,
  ownerIds: ReadonlyArray<string>,
): Promise<RelationBatch<T>> {
  const wanted = [...new Set(ownerIds.filter(isUuid).map(normalizeId))];
  if (wanted.length === 0) return { ids: ownerIds.map(() => []), rows: [] };
  const { l2, cache, tenantId } = deps;
  const type = `[${relation.target}]`;
  const policy = deps.entryPolicies.relations.get(name);
  const keyOf = (ownerId: string) => listKey(deps, relation, ownerId);
  const scopeOf = (ownerId: string) => scopeOfOwner(relation.owner, ownerId);

  const lists = new Map<string, string[]>();
  const cachedLists = policy === undefined ? [] : wanted;
  // Target rows fetched on a miss are cached under their own scope (the doctors of a care team
  // under reference data), whose generation must be read now, before Postgres.
  const targetScopes = wanted.map((id) => scopeOfOwner(relation.target, id));
  const values = await cache.read(
    cachedLists.map((id) => ({ key: keyOf(id), scope: scopeOf(id), type })),
    targetScopes,
  );
  cachedLists.forEach((id, i) => {
    if (Array.isArray(values[i])) lists.set(id, values[i] as string[]);
  });
  const misses = wanted.filter((id) => !lists.has(id));
  if (deps.warming !== true) {
    countL2Lookups(l2.metrics, deps.lookups, type, lists.size, misses.length);
    l2.usage?.track(tenantId, relation.name, cachedLists);
  }
  const rows: Array<EntityRows[T]> = [];
  if (misses.length > 0) {
    const fetched = await l2.singleFlight.run(
      misses.map((id) => flightKey(cache, keyOf(id), scopeOf(id))),
      async (indexes) => {
        const missIds = indexes.map((i) => misses[i] as string);
        const linked = await relation.fetch(deps.db, tenantId, missIds);
        const groups = new Map<string, Array<EntityRows[T]>>(missIds.map((id) => [id, []]));
        for (const { ownerId, row } of linked) groups.get(ownerId)?.push(row);
        return missIds.map((id) => groups.get(id));
      },
    );
    misses.forEach((ownerId, i) => {
      const group = fetched[i] ?? [];
      lists.set(
        ownerId,
        group.map((row) => row.id),
      );
      for (const row of group) {
        rows.push(row);
        deps.onSource(relation.target, row.id, 'db');
        learnPatient(l2, tenantId, relation.target, row);
      }
    });
    if (policy !== undefined) {
      const missLists = misses.map((ownerId) => [ownerId, lists.get(ownerId) ?? []] as const);
      // One write for the batch: its lists and the rows they name.
      deps.defer(async () => {
        const entries: EntryWrite[] = [];
        for (const [ownerId, ids] of missLists) {
          if (relation.owner === 'Patient' && !(await deps.consentOf(ownerId))) continue;
          // An owner that does not exist has no list; only a patient's consent check proves one does.
          if (relation.owner !== 'Patient' && ids.length === 0) continue;
          entries.push({ key: keyOf(ownerId), scope: scopeOf(ownerId), value: ids, policy });
        }
        entries.push(...(await entityEntries(deps, relation.target, rows)));
        await cache.write(entries);
      });
    }
  }
  return { ids: ownerIds.map((id) => lists.get(normalizeId(id)) ?? []), rows };
}

/**
 * Reads owners' cached lists from L2 and nothing else: no Postgres on a miss. Asked in the same
 * tick as the owners themselves, it shares their round trip, so a chart's lists cost none of
 * their own.
 *
 * @returns the lists found, by owner id.
 */
export async function peekRelationLists(
  deps: BatchLoadDeps,
  name: RelationName,
  relation: Pick<RelationSpec, 'name' | 'owner' | 'target'>,
  ownerIds: ReadonlyArray<string>,
): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  if (deps.entryPolicies.relations.get(name) === undefined) return found;
  const owners = [...new Set(ownerIds.filter(isUuid).map(normalizeId))];
  const values = await deps.cache.read(
    owners.map((ownerId) => ({
      key: listKey(deps, relation, ownerId),
      scope: scopeOfOwner(relation.owner, ownerId),
      type: `[${relation.target}]`,
    })),
  );
  owners.forEach((ownerId, i) => {
    const ids = values[i];
    if (Array.isArray(ids)) found.set(ownerId, ids as string[]);
  });
  // Hits are served from L2 and counted so; a miss is counted (and tracked) by the load that
  // follows it, if any.
  countL2Lookups(deps.l2.metrics, deps.lookups, `[${relation.target}]`, found.size, 0);
  if (found.size > 0) deps.l2.usage?.track(deps.tenantId, relation.name, [...found.keys()]);
  return found;
}

function listKey(
  deps: BatchLoadDeps,
  relation: Pick<RelationSpec, 'name' | 'owner'>,
  ownerId: string,
): string {
  const field = relation.name.split('.')[1] ?? relation.name;
  return buildCacheKey(deps.l2.space, {
    kind: 'list',
    tenantId: deps.tenantId,
    owner: relation.owner,
    ownerId,
    field,
  });
}
