CREATE TABLE "sim_fly_apps" (
	"name" text PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"org_slug" text DEFAULT 'personal' NOT NULL,
	"status" text DEFAULT 'deployed' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sim_fly_apps_status_check" CHECK ("sim_fly_apps"."status" in ('pending', 'deployed', 'suspended'))
);
--> statement-breakpoint
CREATE TABLE "sim_fly_leases" (
	"machine_id" text PRIMARY KEY NOT NULL,
	"nonce" text NOT NULL,
	"owner" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"version" text NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sim_fly_machine_events" (
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
CREATE TABLE "sim_fly_machine_versions" (
	"instance_id" text PRIMARY KEY NOT NULL,
	"machine_id" text NOT NULL,
	"config" jsonb NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "sim_fly_machine_versions_status_check" CHECK ("sim_fly_machine_versions"."status" in ('current', 'replaced'))
);
--> statement-breakpoint
CREATE TABLE "sim_fly_machines" (
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
CREATE TABLE "sim_fly_snapshots" (
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
CREATE TABLE "sim_fly_volumes" (
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
ALTER TABLE "sim_fly_leases" ADD CONSTRAINT "sim_fly_leases_machine_id_sim_fly_machines_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."sim_fly_machines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sim_fly_machine_events" ADD CONSTRAINT "sim_fly_machine_events_machine_id_sim_fly_machines_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."sim_fly_machines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sim_fly_machine_versions" ADD CONSTRAINT "sim_fly_machine_versions_machine_id_sim_fly_machines_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."sim_fly_machines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sim_fly_machines" ADD CONSTRAINT "sim_fly_machines_app_name_sim_fly_apps_name_fk" FOREIGN KEY ("app_name") REFERENCES "public"."sim_fly_apps"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sim_fly_snapshots" ADD CONSTRAINT "sim_fly_snapshots_volume_id_sim_fly_volumes_id_fk" FOREIGN KEY ("volume_id") REFERENCES "public"."sim_fly_volumes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sim_fly_volumes" ADD CONSTRAINT "sim_fly_volumes_app_name_sim_fly_apps_name_fk" FOREIGN KEY ("app_name") REFERENCES "public"."sim_fly_apps"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sim_fly_volumes" ADD CONSTRAINT "sim_fly_volumes_attached_machine_id_sim_fly_machines_id_fk" FOREIGN KEY ("attached_machine_id") REFERENCES "public"."sim_fly_machines"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sim_fly_machine_events_machine_idx" ON "sim_fly_machine_events" USING btree ("machine_id","at");--> statement-breakpoint
CREATE INDEX "sim_fly_machine_versions_machine_idx" ON "sim_fly_machine_versions" USING btree ("machine_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "sim_fly_machines_app_name_key" ON "sim_fly_machines" USING btree ("app_name","name") WHERE "sim_fly_machines"."state" <> 'destroyed';--> statement-breakpoint
CREATE INDEX "sim_fly_machines_app_idx" ON "sim_fly_machines" USING btree ("app_name","created_at");--> statement-breakpoint
CREATE INDEX "sim_fly_machines_due_idx" ON "sim_fly_machines" USING btree ("due_at");--> statement-breakpoint
CREATE INDEX "sim_fly_machines_metadata_idx" ON "sim_fly_machines" USING gin (("config" -> 'metadata'));--> statement-breakpoint
CREATE INDEX "sim_fly_snapshots_volume_idx" ON "sim_fly_snapshots" USING btree ("volume_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "sim_fly_volumes_attached_machine_key" ON "sim_fly_volumes" USING btree ("attached_machine_id") WHERE "sim_fly_volumes"."attached_machine_id" is not null;--> statement-breakpoint
CREATE INDEX "sim_fly_volumes_app_idx" ON "sim_fly_volumes" USING btree ("app_name","created_at");