import {
  bigserial,
  index,
  integer,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { tenants } from './tenant.js';

export const auditActionEnum = pgEnum('audit_action', [
  'read',
  'write',
  'purge',
  'deny',
  'break_glass',
  // A warming pass that read PHI into L2: one event per pass and tenant, with its count.
  'warm',
  // One `npm run audit:export` run, one event per tenant it exported, with the row count.
  'export',
]);
export const auditOutcomeEnum = pgEnum('audit_outcome', ['allowed', 'denied']);
export const cacheSourceEnum = pgEnum('cache_source', ['l1', 'l2', 'db']);

/**
 * The append-only audit trail. It holds ids, never names or clinical text.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'string' })
      .notNull()
      .defaultNow(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    actorId: text('actor_id').notNull(),
    actorRole: text('actor_role').notNull(),
    action: auditActionEnum('action').notNull(),
    resourceType: text('resource_type').notNull(),
    resourceId: text('resource_id'),
    patientId: uuid('patient_id'),
    operationName: text('operation_name'),
    cacheSource: cacheSourceEnum('cache_source'),
    requestId: text('request_id').notNull(),
    outcome: auditOutcomeEnum('outcome').notNull(),
    breakGlassReason: text('break_glass_reason'),
    clientAddress: text('client_address'),
    /** How many entities the event covers, when it is not one (a warming pass). */
    entityCount: integer('entity_count'),
  },
  (t) => [
    index('audit_events_patient_idx').on(t.tenantId, t.patientId, t.occurredAt.desc()),
    // (occurred_at, id) is the trail's order, so a page is a range of this index: the keyset
    // of auditEventsPage and audit:export, in either direction, with no sort. Ascending: a
    // `.desc()` column is DESC NULLS LAST here, which no ORDER BY of the queries matches.
    index('audit_events_time_id_idx').on(t.tenantId, t.occurredAt, t.id),
  ],
);

export type AuditEventRow = typeof auditEvents.$inferSelect;
export type NewAuditEvent = typeof auditEvents.$inferInsert;
