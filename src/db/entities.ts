import { and, eq, inArray } from 'drizzle-orm';
import type { Database } from './client.js';
import {
  departments,
  doctors,
  medicalRecords,
  patients,
  studies,
  type DepartmentRow,
  type DoctorRow,
  type MedicalRecordRow,
  type PatientRow,
  type StudyRow,
} from './tables/index.js';

/** Entity rows by GraphQL type name. Every entity has a tenant and a uuid id. */
export interface EntityRows {
  Patient: PatientRow;
  MedicalRecord: MedicalRecordRow;
  Study: StudyRow;
  Doctor: DoctorRow;
  Department: DepartmentRow;
}

export type EntityName = keyof EntityRows;

export const ENTITY_NAMES: ReadonlyArray<EntityName> = [
  'Patient',
  'MedicalRecord',
  'Study',
  'Doctor',
  'Department',
];

const entityTables = {
  Patient: patients,
  MedicalRecord: medicalRecords,
  Study: studies,
  Doctor: doctors,
  Department: departments,
} as const;

/**
 * Fetches entity rows by id within one tenant, in one SQL statement. This is the only place
 * entity rows are read by id; rows of other tenants are never returned.
 *
 * @returns the rows found, in no particular order.
 */
export async function fetchEntityRows<E extends EntityName>(
  db: Database,
  entity: E,
  tenantId: string,
  ids: ReadonlyArray<string>,
): Promise<Array<EntityRows[E]>> {
  // Every entity table has tenantId and id columns; the union of their types defeats drizzle's
  // inference, so one of them stands for all.
  const table = entityTables[entity] as typeof patients;
  const rows = await db
    .select()
    .from(table)
    .where(and(eq(table.tenantId, tenantId), inArray(table.id, [...ids])));
  // The union of table types collapses here; the table was chosen by the entity name.
  return rows as Array<EntityRows[E]>;
}
