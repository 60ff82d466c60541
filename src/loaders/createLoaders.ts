import DataLoader from 'dataloader';
import { ENTITY_NAMES, type EntityName, type EntityRows } from '../db/entities.js';
import { RELATIONS, type RelationName, type RelationSpec } from '../db/relations.js';
import { normalizeId } from '../graphql/ids.js';
import { batchLoadEntities, type BatchLoadDeps } from './batchLoadEntities.js';
import { batchLoadRelation } from './batchLoadRelation.js';
import { createBatchWindow, type BatchWindow } from './batchWindow.js';

export type EntityLoader<E extends EntityName> = DataLoader<string, EntityRows[E] | null>;

type RelationTarget<R extends RelationName> = (typeof RELATIONS)[R]['target'];

export type RelationLoader<R extends RelationName> = DataLoader<
  string,
  Array<EntityRows[RelationTarget<R>]>
>;

/** The per-request L1: one DataLoader per entity and per to-many relation. */
export interface Loaders {
  readonly entities: { readonly [E in EntityName]: EntityLoader<E> };
  readonly relations: { readonly [R in RelationName]: RelationLoader<R> };
}

const MAX_BATCH_SIZE = 1000;

/**
 * Creates the loaders of one request. They are never shared across requests or users: the
 * tenant is fixed for their lifetime, and every SQL statement they send filters by it.
 */
export function createLoaders(deps: BatchLoadDeps): Loaders {
  const window = createBatchWindow();
  const entities = Object.fromEntries(
    ENTITY_NAMES.map((entity) => [entity, createEntityLoader(deps, window, entity)]),
  ) as { [E in EntityName]: EntityLoader<E> };

  const relationLoader = <R extends RelationName>(name: R): RelationLoader<R> => {
    const relation = RELATIONS[name] as unknown as RelationSpec<RelationTarget<R>>;
    const target = entities[relation.target] as unknown as DataLoader<string, unknown>;
    return new DataLoader(
      async (ownerIds: ReadonlyArray<string>) => {
        const groups = await window.track(() => batchLoadRelation(deps, relation, ownerIds));
        // Rows fetched through a relation are primed into the entity loader, so that the same
        // row asked for by id later in the request costs no statement.
        for (const group of groups) for (const row of group) target.prime(row.id, row);
        return groups;
      },
      { maxBatchSize: MAX_BATCH_SIZE, cacheKeyFn: normalizeId, batchScheduleFn: window.schedule },
    );
  };

  return {
    entities,
    relations: {
      patientRecords: relationLoader('patientRecords'),
      patientStudies: relationLoader('patientStudies'),
      patientCareTeam: relationLoader('patientCareTeam'),
      departmentDoctors: relationLoader('departmentDoctors'),
    },
  };
}

function createEntityLoader<E extends EntityName>(
  deps: BatchLoadDeps,
  window: BatchWindow,
  entity: E,
): EntityLoader<E> {
  return new DataLoader(
    (ids: ReadonlyArray<string>) => window.track(() => batchLoadEntities(deps, entity, ids)),
    { maxBatchSize: MAX_BATCH_SIZE, cacheKeyFn: normalizeId, batchScheduleFn: window.schedule },
  );
}
