import { and, asc, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../client.js';
import { careTeam, patients, type PatientRow } from '../tables/index.js';

/** Whose patients a search may return; the permission layer decides it from the caller's role. */
export type SearchScope =
  | { readonly kind: 'tenant' }
  | { readonly kind: 'careTeam'; readonly doctorId: string }
  | { readonly kind: 'self'; readonly patientId: string };

/**
 * Finds patients of one tenant whose name contains the term (case-insensitive) or whose MRN
 * equals it, within the given scope, in one SQL statement.
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
