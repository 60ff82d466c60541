CREATE TYPE "public"."sex" AS ENUM('FEMALE', 'MALE', 'OTHER', 'UNKNOWN');--> statement-breakpoint
CREATE TYPE "public"."report_status" AS ENUM('PENDING', 'PRELIMINARY', 'FINAL', 'AMENDED');--> statement-breakpoint
CREATE TYPE "public"."audit_action" AS ENUM('READ', 'WRITE', 'PURGE', 'DENY');--> statement-breakpoint
CREATE TYPE "public"."audit_outcome" AS ENUM('ALLOWED', 'DENIED');--> statement-breakpoint
CREATE TYPE "public"."cache_source" AS ENUM('L1', 'L2', 'DB');--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "departments" (
	"tenant_id" text NOT NULL,
	"id" uuid NOT NULL,
	"name" text NOT NULL,
	"location" text NOT NULL,
	CONSTRAINT "departments_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "doctors" (
	"tenant_id" text NOT NULL,
	"id" uuid NOT NULL,
	"name" text NOT NULL,
	"title" text NOT NULL,
	"specialty" text NOT NULL,
	"department_id" uuid NOT NULL,
	CONSTRAINT "doctors_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "patients" (
	"tenant_id" text NOT NULL,
	"id" uuid NOT NULL,
	"mrn" text NOT NULL,
	"name" text NOT NULL,
	"birth_date" date NOT NULL,
	"sex" "sex" NOT NULL,
	"phone" text,
	"consent_granted" boolean DEFAULT true NOT NULL,
	"primary_doctor_id" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "patients_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "care_team" (
	"tenant_id" text NOT NULL,
	"patient_id" uuid NOT NULL,
	"doctor_id" uuid NOT NULL,
	CONSTRAINT "care_team_tenant_id_patient_id_doctor_id_pk" PRIMARY KEY("tenant_id","patient_id","doctor_id")
);
--> statement-breakpoint
CREATE TABLE "medical_records" (
	"tenant_id" text NOT NULL,
	"id" uuid NOT NULL,
	"patient_id" uuid NOT NULL,
	"author_id" uuid,
	"recorded_at" timestamp with time zone NOT NULL,
	"diagnosis_code" text NOT NULL,
	"diagnosis" text NOT NULL,
	"notes" text,
	CONSTRAINT "medical_records_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "studies" (
	"tenant_id" text NOT NULL,
	"id" uuid NOT NULL,
	"patient_id" uuid NOT NULL,
	"modality" text NOT NULL,
	"description" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"image_count" integer NOT NULL,
	"ordering_doctor_id" uuid,
	"report_status" "report_status" NOT NULL,
	"report" text,
	CONSTRAINT "studies_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"tenant_id" text NOT NULL,
	"actor_id" text NOT NULL,
	"actor_role" text NOT NULL,
	"action" "audit_action" NOT NULL,
	"resource_type" text NOT NULL,
	"resource_id" text,
	"patient_id" uuid,
	"operation_name" text,
	"cache_source" "cache_source",
	"request_id" text NOT NULL,
	"outcome" "audit_outcome" NOT NULL,
	"break_glass_reason" text,
	"client_address" text
);
--> statement-breakpoint
ALTER TABLE "departments" ADD CONSTRAINT "departments_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "doctors" ADD CONSTRAINT "doctors_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "doctors" ADD CONSTRAINT "doctors_tenant_id_department_id_departments_tenant_id_id_fk" FOREIGN KEY ("tenant_id","department_id") REFERENCES "public"."departments"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patients" ADD CONSTRAINT "patients_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patients" ADD CONSTRAINT "patients_tenant_id_primary_doctor_id_doctors_tenant_id_id_fk" FOREIGN KEY ("tenant_id","primary_doctor_id") REFERENCES "public"."doctors"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "care_team" ADD CONSTRAINT "care_team_tenant_id_patient_id_patients_tenant_id_id_fk" FOREIGN KEY ("tenant_id","patient_id") REFERENCES "public"."patients"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "care_team" ADD CONSTRAINT "care_team_tenant_id_doctor_id_doctors_tenant_id_id_fk" FOREIGN KEY ("tenant_id","doctor_id") REFERENCES "public"."doctors"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "medical_records" ADD CONSTRAINT "medical_records_tenant_id_patient_id_patients_tenant_id_id_fk" FOREIGN KEY ("tenant_id","patient_id") REFERENCES "public"."patients"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "medical_records" ADD CONSTRAINT "medical_records_tenant_id_author_id_doctors_tenant_id_id_fk" FOREIGN KEY ("tenant_id","author_id") REFERENCES "public"."doctors"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "studies" ADD CONSTRAINT "studies_tenant_id_patient_id_patients_tenant_id_id_fk" FOREIGN KEY ("tenant_id","patient_id") REFERENCES "public"."patients"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "studies" ADD CONSTRAINT "studies_tenant_id_ordering_doctor_id_doctors_tenant_id_id_fk" FOREIGN KEY ("tenant_id","ordering_doctor_id") REFERENCES "public"."doctors"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "doctors_department_idx" ON "doctors" USING btree ("tenant_id","department_id");--> statement-breakpoint
CREATE UNIQUE INDEX "patients_mrn_idx" ON "patients" USING btree ("tenant_id","mrn");--> statement-breakpoint
CREATE INDEX "patients_name_trgm_idx" ON "patients" USING gin (lower("name") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "care_team_doctor_idx" ON "care_team" USING btree ("tenant_id","doctor_id");--> statement-breakpoint
CREATE INDEX "medical_records_patient_idx" ON "medical_records" USING btree ("tenant_id","patient_id","recorded_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "studies_patient_idx" ON "studies" USING btree ("tenant_id","patient_id","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_events_patient_idx" ON "audit_events" USING btree ("tenant_id","patient_id","occurred_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_events_time_idx" ON "audit_events" USING btree ("tenant_id","occurred_at" DESC NULLS LAST);