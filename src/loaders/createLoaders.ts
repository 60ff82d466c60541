import DataLoader from 'dataloader';
import { ENTITY_NAMES, type EntityName, type EntityRows } from '../db/entities.js';
import { RELATIONS, type RelationName, type RelationSpec } from '../db/relations.js';
import { normalizeId } from '../graphql/ids.js';
import { batchLoadEntities, type BatchLoadDeps } from './batchLoadEntities.js';
import { batchLoadRelation } from './batchLoadRelation.js';
import { createBatchWindow, type BatchWindow } from './batchWindow.js';
import { countingCacheMap } from './countingCacheMap.js';

export type EntityLoader<E extends EntityName> = DataLoader<string, EntityRows[E] | null>;

/** A relation loader answers the ids of an owner's targets, in display order. */
export type RelationLoader = DataLoader<string, string[]>;

/** The per-request L1: one DataLoader per entity and per to-many relation. */
export interface Loaders {
  readonly entities: { readonly [E in EntityName]: EntityLoader<E> };
  readonly relations: { readonly [R in RelationName]: RelationLoader };
}

const MAX_BATCH_SIZE = 1000;

/**
 * Creates the loaders of one request. They are never shared across requests or users: the
 * tenant is fixed for their lifetime, and every L2 key and SQL statement they use carries it.
 */
export function createLoaders(deps: Omit<BatchLoadDeps, 'consentOf'>): Loaders {
  const window = createBatchWindow();
  const metrics = deps.l2.metrics;
  // Consent is read from the patient's row through this request's own loader.
  const full: BatchLoadDeps = {
    ...deps,
    consentOf: async (patientId) =>
      (await entities.Patient.load(patientId))?.consentGranted === true,
  };
  const entities = Object.fromEntries(
    ENTITY_NAMES.map((entity) => [entity, createEntityLoader(full, window, entity)]),
  ) as { [E in EntityName]: EntityLoader<E> };

  const relationLoader = (name: RelationName): RelationLoader => {
    const relation = RELATIONS[name] as unknown as RelationSpec;
    const target = entities[relation.target] as unknown as DataLoader<string, unknown>;
    return new DataLoader(
      async (ownerIds: ReadonlyArray<string>) => {
        const batch = await window.track(() => batchLoadRelation(full, name, relation, ownerIds));
        // Rows fetched through a relation are primed into the entity loader, so the same row
        // asked for by id later in the request costs nothing.
        for (const row of batch.rows) target.prime(row.id, row);
        return batch.ids;
      },
      {
        maxBatchSize: MAX_BATCH_SIZE,
        cacheKeyFn: normalizeId,
        batchScheduleFn: window.schedule,
        cacheMap: countingCacheMap(metrics, `[${relation.target}]`),
      },
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
    {
      maxBatchSize: MAX_BATCH_SIZE,
      cacheKeyFn: normalizeId,
      batchScheduleFn: window.schedule,
      cacheMap: countingCacheMap(deps.l2.metrics, entity),
    },
  );
}

/** Loads rows by id through a loader, dropping ids that name nothing. */
export async function loadAll<E extends EntityName>(
  loader: EntityLoader<E>,
  ids: ReadonlyArray<string>,
): Promise<Array<EntityRows[E]>> {
  const rows = await loader.loadMany(ids);
  return rows.filter((row): row is EntityRows[E] => {
    if (row instanceof Error) throw row;
    return row !== null;
  });
}
