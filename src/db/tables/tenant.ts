import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** A customer organisation. Every other row belongs to exactly one tenant. */
export const tenants = pgTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
