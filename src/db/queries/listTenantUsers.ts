import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Database } from '../client.js';
import { careTeam, departments, doctors, patients, tenants } from '../tables/index.js';

export interface DevDoctor {
  readonly id: string;
  readonly name: string;
  readonly department: string;
}

export interface DevPatient {
  readonly id: string;
  readonly mrn: string;
  readonly name: string;
  /** The care team, by doctor name. */
  readonly careTeam: ReadonlyArray<{ readonly id: string; readonly name: string }>;
}

export interface TenantUsers {
  readonly doctors: ReadonlyArray<DevDoctor>;
  readonly patients: ReadonlyArray<DevPatient>;
}

/** The ids of every tenant in the database, in order. */
export async function listTenantIds(db: Database): Promise<string[]> {
  const rows = await db.select({ id: tenants.id }).from(tenants).orderBy(asc(tenants.id));
  return rows.map((row) => row.id);
}

/**
 * The first `limit` doctors of a tenant (by name, with their department) and its first
 * `limit` patients (by MRN, with their care team), for development tools: the start-up banner
 * and `npm run dev:users`. Three statements.
 */
export async function listTenantUsers(
  db: Database,
  tenantId: string,
  limit: number,
): Promise<TenantUsers> {
  const doctorRows = await db
    .select({ id: doctors.id, name: doctors.name, department: departments.name })
    .from(doctors)
    .innerJoin(
      departments,
      and(eq(departments.tenantId, doctors.tenantId), eq(departments.id, doctors.departmentId)),
    )
    .where(eq(doctors.tenantId, tenantId))
    .orderBy(asc(doctors.name), asc(doctors.id))
    .limit(limit);
  const patientRows = await db
    .select({ id: patients.id, mrn: patients.mrn, name: patients.name })
    .from(patients)
    .where(eq(patients.tenantId, tenantId))
    .orderBy(asc(patients.mrn))
    .limit(limit);
  const members =
    patientRows.length === 0
      ? []
      : await db
          .select({ patientId: careTeam.patientId, id: doctors.id, name: doctors.name })
          .from(careTeam)
          .innerJoin(
            doctors,
            and(eq(doctors.tenantId, careTeam.tenantId), eq(doctors.id, careTeam.doctorId)),
          )
          .where(
            and(
              eq(careTeam.tenantId, tenantId),
              inArray(
                careTeam.patientId,
                patientRows.map((row) => row.id),
              ),
            ),
          )
          .orderBy(asc(doctors.name), asc(doctors.id));
  return {
    doctors: doctorRows,
    patients: patientRows.map((row) => ({
      ...row,
      careTeam: members
        .filter((member) => member.patientId === row.id)
        .map(({ id, name }) => ({ id, name })),
    })),
  };
}
