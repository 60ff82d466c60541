CREATE TABLE "cache_invalidations" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "cache_invalidations_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"tenant_id" text NOT NULL,
	"scopes" text[] DEFAULT '{}'::text[] NOT NULL,
	"committed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cache_scope_floors" (
	"tenant_id" text NOT NULL,
	"scope" text NOT NULL,
	"seq" bigint NOT NULL,
	CONSTRAINT "cache_scope_floors_tenant_id_scope_pk" PRIMARY KEY("tenant_id","scope")
);
--> statement-breakpoint
CREATE INDEX "cache_invalidations_committed_at_idx" ON "cache_invalidations" USING btree ("committed_at");