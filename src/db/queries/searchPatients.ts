import { and, asc, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../client.js';
import { careTeam, patients, type PatientRow } from '../tables/index.js';

/**
 * Whose patients a search may return, decided by the permission layer from the caller:
 * the tenant's or one doctor's care team's patients, only those who consent unless
 * `consentedOnly` is false, or one patient themselves.
 */
export type SearchScope =
  | { readonly kind: 'tenant'; readonly consentedOnly: boolean }
  | { readonly kind: 'careTeam'; readonly doctorId: string; readonly consentedOnly: boolean }
  | { readonly kind: 'self'; readonly patientId: string };

/**
 * Finds patients of one tenant whose name contains the term (case-insensitive) or whose MRN
 * equals it, within the given scope, in one SQL statement. The scope filters before the
 * limit, so a page holds `first` rows whenever that many patients of the scope match.
 *
 * @returns at most `first` rows, ordered by name.
 */
export async function searchPatients(
  db: Database,
  tenantId: string,
  term: string,
  first: number,
  scope: SearchScope,
): Promise<PatientRow[]> {
  const pattern = `%${escapeLike(term.toLowerCase())}%`;
  const conditions: SQL[] = [
    eq(patients.tenantId, tenantId),
    or(sql`lower(${patients.name}) like ${pattern}`, eq(patients.mrn, term.toUpperCase())) as SQL,
  ];
  if (scope.kind !== 'self' && scope.consentedOnly) {
    conditions.push(eq(patients.consentGranted, true));
  }
  switch (scope.kind) {
    case 'tenant':
      break;
    case 'careTeam':
      conditions.push(
        inArray(
          patients.id,
          db
            .select({ id: careTeam.patientId })
            .from(careTeam)
            .where(and(eq(careTeam.tenantId, tenantId), eq(careTeam.doctorId, scope.doctorId))),
        ),
      );
      break;
    case 'self':
      conditions.push(eq(patients.id, scope.patientId));
      break;
  }
  return db
    .select()
    .from(patients)
    .where(and(...conditions))
    .orderBy(asc(patients.name), asc(patients.id))
    .limit(first);
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
