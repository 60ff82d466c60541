-- One audit:export run leaves one 'export' event per tenant it exported.
ALTER TYPE "public"."audit_action" ADD VALUE 'export';--> statement-breakpoint
-- The trail's order is (occurred_at, id): with the id in the index, and the index ascending (the
-- old one was DESC NULLS LAST, which ORDER BY occurred_at DESC does not match), a page of
-- auditEventsPage or audit:export is one range of it, read either way, with no sort. Building
-- it holds back audit inserts (and so the PHI reads that wait for them) while it runs; on a
-- large trail, build it beforehand with CREATE INDEX CONCURRENTLY under this name (see the
-- README), and this only drops the old one.
CREATE INDEX IF NOT EXISTS "audit_events_time_id_idx" ON "audit_events" USING btree ("tenant_id","occurred_at","id");--> statement-breakpoint
DROP INDEX IF EXISTS "audit_events_time_idx";
