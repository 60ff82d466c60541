import { asc, eq } from 'drizzle-orm';
import type { Database } from '../client.js';
import { departments, doctors, type DepartmentRow, type DoctorRow } from '../tables/index.js';

/** Every department of a tenant, by name. */
export function listDepartments(db: Database, tenantId: string): Promise<DepartmentRow[]> {
  return db
    .select()
    .from(departments)
    .where(eq(departments.tenantId, tenantId))
    .orderBy(asc(departments.name), asc(departments.id));
}

/** Every doctor of a tenant, by name. */
export function listDoctors(db: Database, tenantId: string): Promise<DoctorRow[]> {
  return db
    .select()
    .from(doctors)
    .where(eq(doctors.tenantId, tenantId))
    .orderBy(asc(doctors.name), asc(doctors.id));
}
