CREATE TABLE "reconcile_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"started_at" timestamp (3) with time zone NOT NULL,
	"finished_at" timestamp (3) with time zone,
	"duration_ms" integer DEFAULT 0 NOT NULL,
	"apps" integer DEFAULT 0 NOT NULL,
	"compared" integer DEFAULT 0 NOT NULL,
	"diverged" integer DEFAULT 0 NOT NULL,
	"recoveries_started" integer DEFAULT 0 NOT NULL,
	"recorded" integer DEFAULT 0 NOT NULL,
	"volumes_deleted" integer DEFAULT 0 NOT NULL,
	"trigger" text DEFAULT 'reconcile' NOT NULL,
	"errors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"message_id" text
);
--> statement-breakpoint
CREATE TABLE "reconcile_sightings" (
	"instance_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"first_seen_at" timestamp (3) with time zone NOT NULL,
	"last_seen_at" timestamp (3) with time zone NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "reconcile_sightings_instance_id_kind_pk" PRIMARY KEY("instance_id","kind")
);
--> statement-breakpoint
CREATE TABLE "recoveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"instance_id" uuid NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "recoveries_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"trigger" text NOT NULL,
	"cause" text NOT NULL,
	"fly_state" text,
	"host_status" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"step" text NOT NULL,
	"failed_step" text,
	"in_place" boolean DEFAULT false NOT NULL,
	"claim_token" uuid,
	"claimed_at" timestamp (3) with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_until" timestamp (3) with time zone,
	"step_claims" integer DEFAULT 0 NOT NULL,
	"step_failures" integer DEFAULT 0 NOT NULL,
	"step_deadline_at" timestamp (3) with time zone,
	"next_attempt_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"old_machine_id" text,
	"old_volume_id" text,
	"old_region" text NOT NULL,
	"new_machine_id" text,
	"new_volume_id" text,
	"new_machine_version" text,
	"region_tried" text,
	"region_index" integer DEFAULT 0 NOT NULL,
	"volume_source" text,
	"retained_volume_id" text,
	"retain_until" timestamp (3) with time zone,
	"old_volume_deleted_at" timestamp (3) with time zone,
	"last_error" text,
	"fail_reason" text,
	"history" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"requested_by" text DEFAULT 'system' NOT NULL,
	"started_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp (3) with time zone,
	CONSTRAINT "recoveries_trigger_check" CHECK ("recoveries"."trigger" in ('reconcile', 'admin')),
	CONSTRAINT "recoveries_cause_check" CHECK ("recoveries"."cause" in ('machine_stopped', 'machine_failed', 'machine_destroyed', 'machine_missing', 'host_unreachable', 'admin_request')),
	CONSTRAINT "recoveries_status_check" CHECK ("recoveries"."status" in ('pending', 'running', 'succeeded', 'failed')),
	CONSTRAINT "recoveries_step_check" CHECK ("recoveries"."step" in ('in_place_start', 'started', 'volume_created', 'machine_created', 'machine_started', 'cut_over', 'succeeded', 'failed')),
	CONSTRAINT "recoveries_failed_step_check" CHECK ("recoveries"."failed_step" is null or "recoveries"."failed_step" in ('in_place_start', 'started', 'volume_created', 'machine_created', 'machine_started', 'cut_over', 'succeeded', 'failed')),
	CONSTRAINT "recoveries_volume_source_check" CHECK ("recoveries"."volume_source" is null or "recoveries"."volume_source" in ('fork', 'snapshot'))
);
--> statement-breakpoint
ALTER TABLE "reconcile_sightings" ADD CONSTRAINT "reconcile_sightings_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recoveries" ADD CONSTRAINT "recoveries_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "reconcile_runs_started_at_idx" ON "reconcile_runs" USING btree ("started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "reconcile_runs_message_id_key" ON "reconcile_runs" USING btree ("message_id") WHERE "reconcile_runs"."message_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "recoveries_one_active_per_instance" ON "recoveries" USING btree ("instance_id") WHERE "recoveries"."status" in ('pending', 'running');--> statement-breakpoint
CREATE INDEX "recoveries_seq_idx" ON "recoveries" USING btree ("seq" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "recoveries_instance_seq_idx" ON "recoveries" USING btree ("instance_id","seq" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "recoveries_due_idx" ON "recoveries" USING btree ("next_attempt_at") WHERE "recoveries"."status" in ('pending', 'running');--> statement-breakpoint
CREATE INDEX "recoveries_retained_idx" ON "recoveries" USING btree ("retain_until") WHERE "recoveries"."retained_volume_id" is not null and "recoveries"."old_volume_deleted_at" is null;