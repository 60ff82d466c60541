import {
  foreignKey,
  index,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { doctors } from './doctor.js';
import { patients } from './patient.js';

export const reportStatusEnum = pgEnum('report_status', [
  'PENDING',
  'PRELIMINARY',
  'FINAL',
  'AMENDED',
]);

export const studies = pgTable(
  'studies',
  {
    tenantId: text('tenant_id').notNull(),
    id: uuid('id').notNull(),
    patientId: uuid('patient_id').notNull(),
    modality: text('modality').notNull(),
    description: text('description').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'string' }).notNull(),
    imageCount: integer('image_count').notNull(),
    orderingDoctorId: uuid('ordering_doctor_id'),
    reportStatus: reportStatusEnum('report_status').notNull(),
    report: text('report'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({
      columns: [t.tenantId, t.patientId],
      foreignColumns: [patients.tenantId, patients.id],
    }),
    foreignKey({
      columns: [t.tenantId, t.orderingDoctorId],
      foreignColumns: [doctors.tenantId, doctors.id],
    }),
    index('studies_patient_idx').on(t.tenantId, t.patientId, t.startedAt.desc()),
  ],
);

export type StudyRow = typeof studies.$inferSelect;
