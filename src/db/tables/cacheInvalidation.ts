import { sql } from 'drizzle-orm';
import { bigint, index, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The outbox of L2 invalidations: one row per committed write, inserted in the write's own
 * transaction, which also NOTIFYs it (see `src/cache/invalidationFeed.ts`). `seq` only moves
 * forward, so an instance that knows a scope's latest `seq` can tell a generation made before
 * that write (replayed, or never bumped because Redis refused the write) from one made after.
 * Rows hold tenant ids, scope kinds and patient ids only; they are pruned after an hour.
 */
export const cacheInvalidations = pgTable(
  'cache_invalidations',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    tenantId: text('tenant_id').notNull(),
    /** Scope names as `scopeName` writes them: `patient:<id>`, `search`, `reference`, `tenant`. */
    scopes: text('scopes')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    committedAt: timestamp('committed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('cache_invalidations_committed_at_idx').on(t.committedAt)],
);

/**
 * The latest invalidation of each long-lived scope (a tenant's reference data, or the whole
 * tenant), kept past the outbox's pruning: their entries live for hours, so an instance that
 * starts later must still know them. A patient's or a search's entries live 300 s at most, and
 * the outbox's last minutes cover them.
 */
export const cacheScopeFloors = pgTable(
  'cache_scope_floors',
  {
    tenantId: text('tenant_id').notNull(),
    scope: text('scope').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.scope] })],
);
