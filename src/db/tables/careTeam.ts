import { foreignKey, index, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { doctors } from './doctor.js';
import { patients } from './patient.js';

/** Which doctors treat which patient. A clinician reads a patient's data through this link. */
export const careTeam = pgTable(
  'care_team',
  {
    tenantId: text('tenant_id').notNull(),
    patientId: uuid('patient_id').notNull(),
    doctorId: uuid('doctor_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.patientId, t.doctorId] }),
    foreignKey({
      columns: [t.tenantId, t.patientId],
      foreignColumns: [patients.tenantId, patients.id],
    }),
    foreignKey({
      columns: [t.tenantId, t.doctorId],
      foreignColumns: [doctors.tenantId, doctors.id],
    }),
    index('care_team_doctor_idx').on(t.tenantId, t.doctorId),
  ],
);

export type CareTeamRow = typeof careTeam.$inferSelect;
