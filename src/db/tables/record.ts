import { foreignKey, index, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { doctors } from './doctor.js';
import { patients } from './patient.js';

export const medicalRecords = pgTable(
  'medical_records',
  {
    tenantId: text('tenant_id').notNull(),
    id: uuid('id').notNull(),
    patientId: uuid('patient_id').notNull(),
    authorId: uuid('author_id'),
    recordedAt: timestamp('recorded_at', { withTimezone: true, mode: 'string' }).notNull(),
    diagnosisCode: text('diagnosis_code').notNull(),
    diagnosis: text('diagnosis').notNull(),
    notes: text('notes'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({
      columns: [t.tenantId, t.patientId],
      foreignColumns: [patients.tenantId, patients.id],
    }),
    foreignKey({
      columns: [t.tenantId, t.authorId],
      foreignColumns: [doctors.tenantId, doctors.id],
    }),
    index('medical_records_patient_idx').on(t.tenantId, t.patientId, t.recordedAt.desc()),
  ],
);

export type MedicalRecordRow = typeof medicalRecords.$inferSelect;
