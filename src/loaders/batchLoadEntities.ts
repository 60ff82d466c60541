import { randomUUID } from 'node:crypto';
import { buildCacheKey, type GenerationScope } from '../cache/cacheKey.js';
import type { EntryPolicies } from '../cache/entryPolicies.js';
import type { EntryWrite, L2Cache, RequestCache } from '../cache/l2Cache.js';
import { scopeOfOwner } from '../cache/scopes.js';
import type { Database } from '../db/client.js';
import { fetchEntityRows, type EntityName, type EntityRows } from '../db/entities.js';
import { isUuid, normalizeId } from '../graphql/ids.js';
import { countL2Lookups, type LookupTally } from './lookupTally.js';

export interface BatchLoadDeps {
  readonly db: Database;
  readonly tenantId: string;
  readonly l2: L2Cache;
  readonly cache: RequestCache;
  readonly entryPolicies: EntryPolicies;
  /** Runs a cache write after the batch has answered; the response waits for it. */
  readonly defer: (write: () => Promise<void>) => void;
  /** Tells the request which layer served an entity (for its audit events). */
  readonly onSource: (type: EntityName, id: string, source: 'l2' | 'db') => void;
  /** Whether a patient's consent allows caching their PHI, from their row as this request read it. */
  readonly consentOf: (patientId: string) => Promise<boolean>;
  /**
   * The warmer's loads: not counted as lookups (no hit-rate metrics, no usage). A request's
   * loads leave it unset.
   */
  readonly warming?: boolean;
  /** The request's own lookup counts, for its log line; the warmer has none. */
  readonly lookups?: LookupTally;
}

/**
 * The one batch-load path for entities by id: L2 `getMany` (one round trip), then one SQL
 * statement for the misses (shared with concurrent loads of the same keys), then the misses
 * are written back to L2 after the batch answers. Answers in key order, with null for ids
 * that are malformed, missing or of another tenant; null is never cached.
 */
export async function batchLoadEntities<E extends EntityName>(
  deps: BatchLoadDeps,
  entity: E,
  ids: ReadonlyArray<string>,
): Promise<Array<EntityRows[E] | null>> {
  const wanted = [...new Set(ids.filter(isUuid).map(normalizeId))];
  if (wanted.length === 0) return ids.map(() => null);
  const { l2, cache, tenantId } = deps;
  const policy = deps.entryPolicies.entities.get(entity);
  const scopes = new Map(wanted.map((id) => [id, scopeOf(l2, tenantId, entity, id)]));
  // A record or study whose patient this process does not know yet is never read from L2,
  // and its key (which names the patient's slot) is only a single-flight name.
  const keyOf = (id: string) => {
    const scope = scopes.get(id);
    return buildCacheKey(l2.space, {
      kind: 'entity',
      tenantId,
      type: entity,
      id,
      patientId: scope?.kind === 'patient' ? scope.patientId : id,
    });
  };

  const found = new Map<string, EntityRows[E]>();
  const readable = policy === undefined ? [] : wanted.filter((id) => scopes.get(id) !== undefined);
  const values = await cache.read(
    readable.map((id) => ({
      key: keyOf(id),
      scope: scopes.get(id) as GenerationScope,
      type: entity,
    })),
  );
  readable.forEach((id, i) => {
    if (values[i] === undefined) return;
    found.set(id, values[i] as EntityRows[E]);
    deps.onSource(entity, id, 'l2');
  });
  const misses = wanted.filter((id) => !found.has(id));
  if (deps.warming !== true) {
    countL2Lookups(l2.metrics, deps.lookups, entity, found.size, misses.length);
    trackLookups(l2, tenantId, entity, readable, scopes);
  }
  if (misses.length > 0) {
    const flightKeys = misses.map((id) => flightKey(cache, keyOf(id), scopes.get(id)));
    const rows = await l2.singleFlight.run(flightKeys, async (indexes) => {
      const missIds = indexes.map((i) => misses[i] as string);
      const fetched = await fetchEntityRows(deps.db, entity, tenantId, missIds);
      const byId = new Map(fetched.map((row) => [row.id, row]));
      return missIds.map((id) => byId.get(id));
    });
    const loaded = rows.filter((row): row is EntityRows[E] => row !== undefined);
    for (const row of loaded) {
      found.set(row.id, row);
      deps.onSource(entity, row.id, 'db');
      learnPatient(l2, tenantId, entity, row);
    }
    // Only rows whose generation was read before Postgres may be cached: stamping a row with a
    // generation read after it could hide an invalidation that came in between.
    const cacheable = loaded.filter((row) => scopes.get(row.id) !== undefined);
    if (policy !== undefined && cacheable.length > 0) {
      deps.defer(async () => {
        await cache.write(await entityEntries(deps, entity, cacheable));
      });
    }
  }
  return ids.map((id) => found.get(normalizeId(id)) ?? null);
}

/**
 * The L2 entries of entity rows. PHI is cached only while its patient's consent allows it, as
 * the patient's own row (read under the same generation) says.
 */
export async function entityEntries<E extends EntityName>(
  deps: BatchLoadDeps,
  entity: E,
  rows: ReadonlyArray<EntityRows[E]>,
): Promise<EntryWrite[]> {
  const policy = deps.entryPolicies.entities.get(entity);
  if (policy === undefined) return [];
  // One consent look-up per patient, all at once, rather than one per row in turn.
  const patientIds = [
    ...new Set(rows.flatMap((row) => ('patientId' in row ? [row.patientId] : []))),
  ];
  const consents = new Map(
    await Promise.all(patientIds.map(async (id) => [id, await deps.consentOf(id)] as const)),
  );
  const entries: EntryWrite[] = [];
  for (const row of rows) {
    const allowed =
      'consentGranted' in row
        ? row.consentGranted
        : !('patientId' in row) || consents.get(row.patientId) === true;
    if (!allowed) continue;
    entries.push({
      key: buildCacheKey(deps.l2.space, {
        kind: 'entity',
        tenantId: deps.tenantId,
        type: entity,
        id: row.id,
        patientId: 'patientId' in row ? row.patientId : row.id,
      }),
      scope: scopeOfOwner(entity, 'patientId' in row ? row.patientId : row.id),
      value: row,
      policy,
    });
  }
  return entries;
}

/** Counts the L2 lookups of a batch for the warmer, with the patient of each record or study. */
function trackLookups(
  l2: L2Cache,
  tenantId: string,
  entity: EntityName,
  ids: ReadonlyArray<string>,
  scopes: ReadonlyMap<string, GenerationScope | undefined>,
): void {
  const usage = l2.usage;
  if (usage === undefined || ids.length === 0) return;
  if (entity !== 'MedicalRecord' && entity !== 'Study') {
    usage.track(tenantId, entity, ids);
    return;
  }
  const owners = ids.map((id) => {
    const scope = scopes.get(id);
    return scope?.kind === 'patient' ? scope.patientId : '';
  });
  usage.track(tenantId, entity, ids, owners);
}

/** Records and studies are stamped with their patient's generation, which their id alone does not tell. */
function scopeOf(
  l2: L2Cache,
  tenantId: string,
  entity: EntityName,
  id: string,
): GenerationScope | undefined {
  if (entity !== 'MedicalRecord' && entity !== 'Study') return scopeOfOwner(entity, id);
  const patientId = l2.patientOf.get(`${tenantId}:${id}`);
  return patientId === undefined ? undefined : scopeOfOwner(entity, patientId);
}

/** Remembers the patient of a record or study, so that its next read can check its generation. */
export function learnPatient(l2: L2Cache, tenantId: string, entity: EntityName, row: object): void {
  if ((entity === 'MedicalRecord' || entity === 'Study') && 'patientId' in row && 'id' in row) {
    l2.patientOf.set(`${tenantId}:${String(row.id)}`, String(row.patientId));
  }
}

/**
 * Concurrent misses share a load only when they read the same generation; a key whose
 * generation is unknown never shares, since its load may predate a write.
 */
export function flightKey(
  cache: RequestCache,
  key: string,
  scope: GenerationScope | undefined,
): string {
  if (scope === undefined) return `${key}@${randomUUID()}`;
  return `${key}@${cache.stampOf(scope) ?? 'absent'}`;
}
