import DataLoader from 'dataloader';
import { ENTITY_NAMES, type EntityName, type EntityRows } from '../db/entities.js';
import { RELATIONS, type RelationName, type RelationSpec } from '../db/relations.js';
import { normalizeId } from '../graphql/ids.js';
import { batchLoadEntities, type BatchLoadDeps } from './batchLoadEntities.js';
import { batchLoadRelation, peekRelationLists } from './batchLoadRelation.js';
import { createBatchWindow } from './batchWindow.js';
import { countingCacheMap, primeUncounted, type CountingCacheMap } from './countingCacheMap.js';
import { countsOf } from './lookupTally.js';

export type EntityLoader<E extends EntityName> = DataLoader<string, EntityRows[E] | null>;

/** A relation loader answers the ids of an owner's targets, in display order. */
export type RelationLoader = DataLoader<string, string[]>;

/** The per-request L1: one DataLoader per entity and per to-many relation. */
export interface Loaders {
  readonly entities: { readonly [E in EntityName]: EntityLoader<E> };
  readonly relations: { readonly [R in RelationName]: RelationLoader };
  /**
   * Call after clearing any loader: a read-ahead still in flight then primes nothing, since
   * what it read may predate the write that cleared it.
   */
  invalidated(): void;
}

const MAX_BATCH_SIZE = 1000;

export interface LoaderOptions {
  /**
   * False turns batching and L1 off: every load is its own round trip, as with naive
   * resolvers. Only the benchmark's N+1 baseline sets it.
   */
  readonly batching: boolean;
  /**
   * Reads a patient's cached lists (records, studies, care team) in the patient's own round
   * trip. Worth it only for callers who may read those lists: clinicians and patients.
   */
  readonly readAhead?: boolean;
}

/** The lists a chart reads after its patient, read ahead with the patient when cached. */
const PATIENT_LISTS: ReadonlyArray<RelationName> = [
  'patientCareTeam',
  'patientRecords',
  'patientStudies',
];
// A search's page of patients is not a chart: read ahead only for a handful at a time.
const READ_AHEAD_MAX_PATIENTS = 3;

/**
 * Creates the loaders of one request. They are never shared across requests or users: the
 * tenant is fixed for their lifetime, and every L2 key and SQL statement they use carries it.
 */
export function createLoaders(
  deps: Omit<BatchLoadDeps, 'consentOf'>,
  options: LoaderOptions = { batching: true },
): Loaders {
  const window = createBatchWindow();
  const counted = options.batching && deps.warming !== true;
  const cacheMapOf = <V>(type: string): CountingCacheMap<V> | undefined =>
    counted
      ? countingCacheMap<V>(
          metrics,
          type,
          deps.lookups === undefined ? undefined : countsOf(deps.lookups.l1, type),
        )
      : undefined;
  const loaderOptions = <V>(
    cacheMap: CountingCacheMap<V> | undefined,
  ): DataLoader.Options<string, V> =>
    options.batching
      ? {
          maxBatchSize: MAX_BATCH_SIZE,
          cacheKeyFn: normalizeId,
          batchScheduleFn: window.schedule,
          ...(cacheMap === undefined ? {} : { cacheMap }),
        }
      : { batch: false, cache: false };
  /** A loader whose lookups are counted (primes are not), over a cache map of its own. */
  const countedLoader = <V>(
    type: string,
    batch: DataLoader.BatchLoadFn<string, V>,
  ): DataLoader<string, V> => {
    const cacheMap = cacheMapOf<V>(type);
    return primeUncounted(new DataLoader(batch, loaderOptions(cacheMap)), cacheMap);
  };
  const metrics = deps.l2.metrics;
  // Consent is read from the patient's row through this request's own loader.
  const full: BatchLoadDeps = {
    ...deps,
    consentOf: async (patientId) =>
      (await entities.Patient.load(patientId))?.consentGranted === true,
  };
  // Lists found are primed into their loaders; whatever the request asks of them later is an
  // L1 hit, and a list not found costs nothing more than before.
  let invalidations = 0;
  const readAhead = async (patientIds: ReadonlyArray<string>): Promise<void> => {
    if (options.readAhead !== true || patientIds.length > READ_AHEAD_MAX_PATIENTS) return;
    const before = invalidations;
    await Promise.all(
      PATIENT_LISTS.map(async (name) => {
        const lists = await peekRelationLists(full, name, RELATIONS[name], patientIds);
        if (invalidations !== before) return;
        for (const [ownerId, ids] of lists) relations[name].prime(ownerId, ids);
      }),
    ).catch(() => {
      // Only an optimisation: a failed read-ahead leaves the lists to their own loads.
    });
  };
  const entities = Object.fromEntries(
    ENTITY_NAMES.map((entity) => [
      entity,
      countedLoader(entity, (ids: ReadonlyArray<string>) =>
        window.track(async (): Promise<Array<EntityRows[EntityName] | null>> => {
          if (entity !== 'Patient') return batchLoadEntities(full, entity, ids);
          const [rows] = await Promise.all([batchLoadEntities(full, entity, ids), readAhead(ids)]);
          return rows;
        }),
      ),
    ]),
  ) as { [E in EntityName]: EntityLoader<E> };

  const relationLoader = (name: RelationName): RelationLoader => {
    const relation = RELATIONS[name] as unknown as RelationSpec;
    const target = entities[relation.target] as unknown as DataLoader<string, unknown>;
    return countedLoader(`[${relation.target}]`, async (ownerIds: ReadonlyArray<string>) => {
      const batch = await window.track(() => batchLoadRelation(full, name, relation, ownerIds));
      // Rows fetched through a relation are primed into the entity loader, so the same row
      // asked for by id later in the request costs nothing.
      for (const row of batch.rows) target.prime(row.id, row);
      return batch.ids;
    });
  };

  const relations = {
    patientRecords: relationLoader('patientRecords'),
    patientStudies: relationLoader('patientStudies'),
    patientCareTeam: relationLoader('patientCareTeam'),
    departmentDoctors: relationLoader('departmentDoctors'),
  };
  return {
    entities,
    relations,
    invalidated: () => {
      invalidations++;
    },
  };
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
