import { buildCacheKey } from '../cache/cacheKey.js';
import { searchPatients, type SearchScope } from '../db/queries/searchPatients.js';
import type { PatientRow } from '../db/tables/index.js';
import type { BatchLoadDeps } from './batchLoadEntities.js';
import { loadAll, type Loaders } from './createLoaders.js';
import { countL2Lookups } from './lookupTally.js';

const SEARCH_SCOPE = { kind: 'search' } as const;

/**
 * `patients(search)` through L2: the result ids are cached under the tenant's search
 * generation (any patient write makes every search stale), keyed by an HMAC of the term and
 * the caller's view. A hit loads the patients themselves through the loaders; a miss runs one
 * SQL statement. Empty results, and results that include a patient whose consent is
 * withheld, are not cached. A scope that is not limited to consenting patients (a
 * clinician's break-glass) neither reads nor writes L2: the grant is a decision of that
 * request, so what it found is never kept for, or served to, anyone.
 */
export async function cachedSearchPatients(
  deps: Omit<BatchLoadDeps, 'consentOf'> & { readonly loaders: Loaders },
  term: string,
  first: number,
  scope: SearchScope,
): Promise<PatientRow[]> {
  const { tenantId, loaders } = deps;
  const view = viewOf(scope);
  const key =
    view === undefined
      ? undefined
      : buildCacheKey(deps.l2.space, { kind: 'search', tenantId, view, term, first });
  const policy = deps.entryPolicies.search;
  const [cached] =
    policy === undefined || key === undefined
      ? [undefined]
      : await deps.cache.read([{ key, scope: SEARCH_SCOPE, type: '[Patient]' }]);
  const hit = Array.isArray(cached) ? 1 : 0;
  countL2Lookups(deps.l2.metrics, deps.lookups, '[Patient]', hit, 1 - hit);
  if (Array.isArray(cached)) return loadAll(loaders.entities.Patient, cached as string[]);

  const rows = await searchPatients(deps.db, tenantId, term, first, scope);
  for (const row of rows) {
    deps.onSource('Patient', row.id, 'db');
    loaders.entities.Patient.prime(row.id, row);
  }
  if (
    policy !== undefined &&
    key !== undefined &&
    rows.length > 0 &&
    rows.every((row) => row.consentGranted)
  ) {
    deps.defer(async () => {
      await deps.cache.write([
        { key, scope: SEARCH_SCOPE, value: rows.map((row) => row.id), policy },
      ]);
    });
  }
  return rows;
}

/**
 * The name of the rows a scope may see, which keys its cached results; undefined for a scope
 * whose results are never cached. The consent filter is part of the name, so an entry written
 * before the filter moved into the statement is never read as a filtered one.
 */
function viewOf(scope: SearchScope): string | undefined {
  switch (scope.kind) {
    case 'tenant':
      return scope.consentedOnly ? 'tenant:consented' : undefined;
    case 'careTeam':
      return scope.consentedOnly ? `careTeam:${scope.doctorId}:consented` : undefined;
    case 'self':
      return `self:${scope.patientId}`;
  }
}
