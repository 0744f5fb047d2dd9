-- The local stand-ins' sim_* tables, moved out of db/migrations (docs/adr/0005). An
-- embedded database created before the move already has every one of them, made by the
-- old 0002_fly_simulator and 0003_doorbells with exactly these definitions, so each
-- statement is guarded: tables and indexes IF NOT EXISTS, foreign keys ignoring
-- duplicate_object. Edited from drizzle-kit's output by a script; the snapshot is as generated.
CREATE TABLE IF NOT EXISTS "sim_fly_apps" (
	"name" text PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"org_slug" text DEFAULT 'personal' NOT NULL,
	"status" text DEFAULT 'deployed' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sim_fly_apps_status_check" CHECK ("sim_fly_apps"."status" in ('pending', 'deployed', 'suspended'))
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "sim_fly_leases" (
	"machine_id" text PRIMARY KEY NOT NULL,
	"nonce" text NOT NULL,
	"owner" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"version" text NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "sim_fly_machine_events" (
	"id" text PRIMARY KEY NOT NULL,
	"machine_id" text NOT NULL,
	"type" text NOT NULL,
	"status" text NOT NULL,
	"source" text NOT NULL,
	"request" jsonb,
	"at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "sim_fly_machine_events_source_check" CHECK ("sim_fly_machine_events"."source" in ('user', 'flyd'))
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "sim_fly_machine_versions" (
	"instance_id" text PRIMARY KEY NOT NULL,
	"machine_id" text NOT NULL,
	"config" jsonb NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "sim_fly_machine_versions_status_check" CHECK ("sim_fly_machine_versions"."status" in ('current', 'replaced'))
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "sim_fly_machines" (
	"id" text PRIMARY KEY NOT NULL,
	"app_name" text NOT NULL,
	"name" text NOT NULL,
	"region" text NOT NULL,
	"zone" text NOT NULL,
	"state" text NOT NULL,
	"instance_id" text NOT NULL,
	"private_ip" text NOT NULL,
	"config" jsonb NOT NULL,
	"steps" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"due_at" timestamp (3) with time zone,
	"revision" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "sim_fly_machines_state_check" CHECK ("sim_fly_machines"."state" in ('created', 'starting', 'started', 'stopping', 'stopped', 'suspending', 'suspended', 'restarting', 'updating', 'replacing', 'destroying', 'destroyed', 'failed', 'launch_failed'))
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "sim_fly_snapshots" (
	"id" text PRIMARY KEY NOT NULL,
	"volume_id" text NOT NULL,
	"status" text NOT NULL,
	"size" bigint NOT NULL,
	"volume_size" integer NOT NULL,
	"digest" text NOT NULL,
	"retention_days" integer NOT NULL,
	"ready_at" timestamp (3) with time zone NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "sim_fly_snapshots_status_check" CHECK ("sim_fly_snapshots"."status" in ('waiting', 'running', 'created', 'failed'))
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "sim_fly_volumes" (
	"id" text PRIMARY KEY NOT NULL,
	"app_name" text NOT NULL,
	"name" text NOT NULL,
	"region" text NOT NULL,
	"zone" text NOT NULL,
	"size_gb" integer NOT NULL,
	"state" text NOT NULL,
	"encrypted" boolean DEFAULT true NOT NULL,
	"fstype" text DEFAULT 'ext4' NOT NULL,
	"snapshot_retention" integer DEFAULT 5 NOT NULL,
	"auto_backup_enabled" boolean DEFAULT true NOT NULL,
	"attached_machine_id" text,
	"source_volume_id" text,
	"snapshot_id" text,
	"compute" jsonb,
	"steps" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"due_at" timestamp (3) with time zone,
	"revision" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	CONSTRAINT "sim_fly_volumes_state_check" CHECK ("sim_fly_volumes"."state" in ('creating', 'created', 'extending', 'restoring', 'enabling_remote_export', 'hydrating', 'recovering', 'scheduling_destroy', 'pending_destroy', 'destroyed')),
	CONSTRAINT "sim_fly_volumes_snapshot_retention_check" CHECK ("sim_fly_volumes"."snapshot_retention" between 1 and 60)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "sim_qstash_dedup" (
	"key" text PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "sim_qstash_dlq" (
	"dlq_id" text PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"message" jsonb NOT NULL,
	"response_status" integer,
	"response_headers" jsonb,
	"response_body" text,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "sim_qstash_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"state" text NOT NULL,
	"url" text NOT NULL,
	"time" timestamp (3) with time zone NOT NULL,
	"next_delivery_time" timestamp (3) with time zone,
	"response_status" integer,
	"error" text,
	"schedule_id" text
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "sim_qstash_messages" (
	"message_id" text PRIMARY KEY NOT NULL,
	"destination" text NOT NULL,
	"method" text DEFAULT 'POST' NOT NULL,
	"headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"body_base64" text DEFAULT '' NOT NULL,
	"not_before" timestamp (3) with time zone NOT NULL,
	"max_retries" integer DEFAULT 3 NOT NULL,
	"retried" integer DEFAULT 0 NOT NULL,
	"retry_delay_expression" text,
	"timeout_seconds" integer,
	"callback" text,
	"failure_callback" text,
	"schedule_id" text,
	"caller_ip" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"next_attempt_at" timestamp (3) with time zone NOT NULL,
	"locked_until" timestamp (3) with time zone,
	"last_status" integer,
	"last_error" text,
	"created_at" timestamp (3) with time zone NOT NULL,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "sim_qstash_messages_status_check" CHECK ("sim_qstash_messages"."status" in ('pending', 'delivering', 'delivered', 'failed', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "sim_qstash_schedules" (
	"schedule_id" text PRIMARY KEY NOT NULL,
	"cron" text NOT NULL,
	"destination" text NOT NULL,
	"method" text DEFAULT 'POST' NOT NULL,
	"headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"body_base64" text DEFAULT '' NOT NULL,
	"retries" integer DEFAULT 3 NOT NULL,
	"delay_seconds" integer DEFAULT 0 NOT NULL,
	"retry_delay_expression" text,
	"timeout_seconds" integer,
	"callback" text,
	"failure_callback" text,
	"paused" boolean DEFAULT false NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"last_schedule_time" timestamp (3) with time zone,
	"next_schedule_time" timestamp (3) with time zone NOT NULL,
	"last_message_id" text
);
--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "sim_fly_leases" ADD CONSTRAINT "sim_fly_leases_machine_id_sim_fly_machines_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."sim_fly_machines"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN null;
END $$;--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "sim_fly_machine_events" ADD CONSTRAINT "sim_fly_machine_events_machine_id_sim_fly_machines_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."sim_fly_machines"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN null;
END $$;--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "sim_fly_machine_versions" ADD CONSTRAINT "sim_fly_machine_versions_machine_id_sim_fly_machines_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."sim_fly_machines"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN null;
END $$;--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "sim_fly_machines" ADD CONSTRAINT "sim_fly_machines_app_name_sim_fly_apps_name_fk" FOREIGN KEY ("app_name") REFERENCES "public"."sim_fly_apps"("name") ON DELETE cascade ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN null;
END $$;--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "sim_fly_snapshots" ADD CONSTRAINT "sim_fly_snapshots_volume_id_sim_fly_volumes_id_fk" FOREIGN KEY ("volume_id") REFERENCES "public"."sim_fly_volumes"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN null;
END $$;--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "sim_fly_volumes" ADD CONSTRAINT "sim_fly_volumes_app_name_sim_fly_apps_name_fk" FOREIGN KEY ("app_name") REFERENCES "public"."sim_fly_apps"("name") ON DELETE cascade ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN null;
END $$;--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "sim_fly_volumes" ADD CONSTRAINT "sim_fly_volumes_attached_machine_id_sim_fly_machines_id_fk" FOREIGN KEY ("attached_machine_id") REFERENCES "public"."sim_fly_machines"("id") ON DELETE set null ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN null;
END $$;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "sim_fly_machine_events_machine_idx" ON "sim_fly_machine_events" USING btree ("machine_id","at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "sim_fly_machine_versions_machine_idx" ON "sim_fly_machine_versions" USING btree ("machine_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "sim_fly_machines_app_name_key" ON "sim_fly_machines" USING btree ("app_name","name") WHERE "sim_fly_machines"."state" <> 'destroyed';--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "sim_fly_machines_app_idx" ON "sim_fly_machines" USING btree ("app_name","created_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "sim_fly_machines_due_idx" ON "sim_fly_machines" USING btree ("due_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "sim_fly_machines_metadata_idx" ON "sim_fly_machines" USING gin (("config" -> 'metadata'));--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "sim_fly_snapshots_volume_idx" ON "sim_fly_snapshots" USING btree ("volume_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "sim_fly_volumes_attached_machine_key" ON "sim_fly_volumes" USING btree ("attached_machine_id") WHERE "sim_fly_volumes"."attached_machine_id" is not null;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "sim_fly_volumes_app_idx" ON "sim_fly_volumes" USING btree ("app_name","created_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "sim_qstash_dlq_created_at_idx" ON "sim_qstash_dlq" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "sim_qstash_events_message_idx" ON "sim_qstash_events" USING btree ("message_id","id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "sim_qstash_messages_due_idx" ON "sim_qstash_messages" USING btree ("status","next_attempt_at");