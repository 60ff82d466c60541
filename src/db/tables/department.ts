import { pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { tenants } from './tenant.js';

export const departments = pgTable(
  'departments',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: uuid('id').notNull(),
    name: text('name').notNull(),
    location: text('location').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);

export type DepartmentRow = typeof departments.$inferSelect;
