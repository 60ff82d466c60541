-- SPEC §1 spells audit values in lower case (read, l2, allowed...); existing rows are lowered.
ALTER TABLE "audit_events" ALTER COLUMN "action" SET DATA TYPE text;--> statement-breakpoint
DROP TYPE "public"."audit_action";--> statement-breakpoint
CREATE TYPE "public"."audit_action" AS ENUM('read', 'write', 'purge', 'deny', 'break_glass');--> statement-breakpoint
ALTER TABLE "audit_events" ALTER COLUMN "action" SET DATA TYPE "public"."audit_action" USING lower("action")::"public"."audit_action";--> statement-breakpoint
ALTER TABLE "audit_events" ALTER COLUMN "outcome" SET DATA TYPE text;--> statement-breakpoint
DROP TYPE "public"."audit_outcome";--> statement-breakpoint
CREATE TYPE "public"."audit_outcome" AS ENUM('allowed', 'denied');--> statement-breakpoint
ALTER TABLE "audit_events" ALTER COLUMN "outcome" SET DATA TYPE "public"."audit_outcome" USING lower("outcome")::"public"."audit_outcome";--> statement-breakpoint
ALTER TABLE "audit_events" ALTER COLUMN "cache_source" SET DATA TYPE text;--> statement-breakpoint
DROP TYPE "public"."cache_source";--> statement-breakpoint
CREATE TYPE "public"."cache_source" AS ENUM('l1', 'l2', 'db');--> statement-breakpoint
ALTER TABLE "audit_events" ALTER COLUMN "cache_source" SET DATA TYPE "public"."cache_source" USING lower("cache_source")::"public"."cache_source";