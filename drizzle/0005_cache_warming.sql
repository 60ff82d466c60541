ALTER TYPE "public"."audit_action" ADD VALUE 'warm';--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "entity_count" integer;