import type { SearchScope } from '../db/queries/searchPatients.js';
import type { PatientRow } from '../db/tables/index.js';
import { ForbiddenError } from '../errors.js';
import type { RequestContext } from '../graphql/context.js';
import { patientAccess } from './access.js';

/**
 * The patients `patients(search)` may return to the caller, as a filter the search statement
 * applies before its limit. It is `patientAccess` (access.ts) for a whole search, so a page is
 * never shortened by a row the caller may not read:
 * - the front desk: the tenant's patients who consent;
 * - a clinician: their care team's patients who consent; with break-glass, their care team's
 *   patients whatever their consent (the search stays within the care team, SPEC §1);
 * - a patient: themselves, whatever their consent.
 *
 * @returns the scope of the caller's search.
 * @throws ForbiddenError for a role that searches nothing, or a token without its id claim.
 */
export function searchScopeOf(ctx: RequestContext): SearchScope {
  const { role, doctorId, patientId } = ctx.principal;
  switch (role) {
    case 'frontdesk':
      return { kind: 'tenant', consentedOnly: true };
    case 'clinician':
      if (doctorId === undefined) throw new ForbiddenError();
      return { kind: 'careTeam', doctorId, consentedOnly: ctx.breakGlassReason === undefined };
    case 'patient':
      if (patientId === undefined) throw new ForbiddenError();
      return { kind: 'self', patientId };
    case 'auditor':
    case 'admin':
      throw new ForbiddenError();
  }
}

/**
 * The rows of a search the caller may read, in their order. A guard, not the filter: the
 * scope holds only patients the caller may read, so with no write in between this drops
 * nothing and never shortens a page. It drops a row only when a concurrent write changed its
 * consent or care team after the statement ran, and such a row is then never listed.
 *
 * @returns the readable rows.
 */
export async function onlyReadable(
  ctx: RequestContext,
  rows: ReadonlyArray<PatientRow>,
): Promise<PatientRow[]> {
  const access = await Promise.all(rows.map((row) => patientAccess(ctx, row.id)));
  return rows.filter((_, i) => access[i] !== 'none');
}
