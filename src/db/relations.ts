import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { Database } from './client.js';
import type { EntityName, EntityRows } from './entities.js';
import { careTeam, doctors, medicalRecords, studies } from './tables/index.js';

/**
 * A to-many relation from an owner entity to target rows. Relations are declared once, here;
 * the loaders batch them and the cache derives what a write invalidates from them.
 */
export interface RelationSpec<T extends EntityName = EntityName> {
  readonly name: string;
  readonly owner: EntityName;
  readonly target: T;
  /** The owner id of a target row, or undefined when the link lives in a join table. */
  readonly ownerIdOf: ((row: EntityRows[T]) => string) | undefined;
  /** One SQL statement returning every target row of the given owners, in display order. */
  readonly fetch: (
    db: Database,
    tenantId: string,
    ownerIds: string[],
  ) => Promise<Array<{ ownerId: string; row: EntityRows[T] }>>;
}

const patientRecords: RelationSpec<'MedicalRecord'> = {
  name: 'Patient.records',
  owner: 'Patient',
  target: 'MedicalRecord',
  ownerIdOf: (row) => row.patientId,
  fetch: async (db, tenantId, ownerIds) => {
    const rows = await db
      .select()
      .from(medicalRecords)
      .where(
        and(eq(medicalRecords.tenantId, tenantId), inArray(medicalRecords.patientId, ownerIds)),
      )
      .orderBy(desc(medicalRecords.recordedAt), asc(medicalRecords.id));
    return rows.map((row) => ({ ownerId: row.patientId, row }));
  },
};

const patientStudies: RelationSpec<'Study'> = {
  name: 'Patient.studies',
  owner: 'Patient',
  target: 'Study',
  ownerIdOf: (row) => row.patientId,
  fetch: async (db, tenantId, ownerIds) => {
    const rows = await db
      .select()
      .from(studies)
      .where(and(eq(studies.tenantId, tenantId), inArray(studies.patientId, ownerIds)))
      .orderBy(desc(studies.startedAt), asc(studies.id));
    return rows.map((row) => ({ ownerId: row.patientId, row }));
  },
};

const patientCareTeam: RelationSpec<'Doctor'> = {
  name: 'Patient.careTeam',
  owner: 'Patient',
  target: 'Doctor',
  ownerIdOf: undefined,
  fetch: async (db, tenantId, ownerIds) => {
    const rows = await db
      .select({ ownerId: careTeam.patientId, row: doctors })
      .from(careTeam)
      .innerJoin(
        doctors,
        and(eq(doctors.tenantId, careTeam.tenantId), eq(doctors.id, careTeam.doctorId)),
      )
      .where(and(eq(careTeam.tenantId, tenantId), inArray(careTeam.patientId, ownerIds)))
      // By id: the list is cached as ids under the patient, and a name can change under it.
      .orderBy(asc(doctors.id));
    return rows;
  },
};

const departmentDoctors: RelationSpec<'Doctor'> = {
  name: 'Department.doctors',
  owner: 'Department',
  target: 'Doctor',
  ownerIdOf: (row) => row.departmentId,
  fetch: async (db, tenantId, ownerIds) => {
    const rows = await db
      .select()
      .from(doctors)
      .where(and(eq(doctors.tenantId, tenantId), inArray(doctors.departmentId, ownerIds)))
      .orderBy(asc(doctors.name), asc(doctors.id));
    return rows.map((row) => ({ ownerId: row.departmentId, row }));
  },
};

export const RELATIONS = {
  patientRecords,
  patientStudies,
  patientCareTeam,
  departmentDoctors,
} as const;

export type RelationName = keyof typeof RELATIONS;
