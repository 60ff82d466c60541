import { sql } from 'drizzle-orm';
import {
  boolean,
  date,
  foreignKey,
  index,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { doctors } from './doctor.js';
import { tenants } from './tenant.js';

export const sexEnum = pgEnum('sex', ['FEMALE', 'MALE', 'OTHER', 'UNKNOWN']);

export const patients = pgTable(
  'patients',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: uuid('id').notNull(),
    mrn: text('mrn').notNull(),
    name: text('name').notNull(),
    birthDate: date('birth_date', { mode: 'string' }).notNull(),
    sex: sexEnum('sex').notNull(),
    phone: text('phone'),
    consentGranted: boolean('consent_granted').notNull().default(true),
    primaryDoctorId: uuid('primary_doctor_id'),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' })
      .notNull()
      .defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({
      columns: [t.tenantId, t.primaryDoctorId],
      foreignColumns: [doctors.tenantId, doctors.id],
    }),
    uniqueIndex('patients_mrn_idx').on(t.tenantId, t.mrn),
    // Substring search on names uses trigrams; the tenant filter is applied to the matches.
    index('patients_name_trgm_idx').using('gin', sql`lower(${t.name}) gin_trgm_ops`),
  ],
);

export type PatientRow = typeof patients.$inferSelect;
