import { foreignKey, index, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { departments } from './department.js';
import { tenants } from './tenant.js';

export const doctors = pgTable(
  'doctors',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: uuid('id').notNull(),
    name: text('name').notNull(),
    title: text('title').notNull(),
    specialty: text('specialty').notNull(),
    departmentId: uuid('department_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    // A composite foreign key makes a cross-tenant reference impossible at the database level.
    foreignKey({
      columns: [t.tenantId, t.departmentId],
      foreignColumns: [departments.tenantId, departments.id],
    }),
    index('doctors_department_idx').on(t.tenantId, t.departmentId),
  ],
);

export type DoctorRow = typeof doctors.$inferSelect;
