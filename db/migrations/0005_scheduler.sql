CREATE TABLE "scheduled_action_stages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"action_id" uuid NOT NULL,
	"index" integer NOT NULL,
	"scheduled_at" timestamp (3) with time zone NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"gate_result" text,
	"doorbell_message_id" text,
	"started_at" timestamp (3) with time zone,
	"completed_at" timestamp (3) with time zone,
	"total" integer DEFAULT 0 NOT NULL,
	"applied" integer DEFAULT 0 NOT NULL,
	"skipped" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"cancelled" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "scheduled_action_stages_status_check" CHECK ("scheduled_action_stages"."status" in ('pending', 'running', 'completed', 'halted', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "scheduled_action_targets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"action_id" uuid NOT NULL,
	"stage_id" uuid NOT NULL,
	"instance_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"source_image_tag" text,
	"target_image_tag" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"skip_reason" text,
	"error" text,
	"operation_id" uuid,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (3) with time zone NOT NULL,
	"busy_since" timestamp (3) with time zone,
	"claimed_at" timestamp (3) with time zone,
	"lease_until" timestamp (3) with time zone,
	"applied_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "scheduled_action_targets_status_check" CHECK ("scheduled_action_targets"."status" in ('pending', 'running', 'applied', 'skipped', 'failed', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "scheduled_actions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"action_type" text NOT NULL,
	"target_image_tag" text,
	"override_pins" boolean DEFAULT false NOT NULL,
	"reason" text NOT NULL,
	"status" text DEFAULT 'scheduled' NOT NULL,
	"run_at" timestamp (3) with time zone NOT NULL,
	"stage_percents" jsonb NOT NULL,
	"stage_interval_seconds" integer DEFAULT 0 NOT NULL,
	"failure_threshold_percent" integer,
	"selection" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_by_admin_id" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (3) with time zone,
	"completed_at" timestamp (3) with time zone,
	"cancelled_at" timestamp (3) with time zone,
	"total" integer DEFAULT 0 NOT NULL,
	"applied" integer DEFAULT 0 NOT NULL,
	"skipped" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"cancelled" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "scheduled_actions_type_check" CHECK ("scheduled_actions"."action_type" in ('restart', 'version_change')),
	CONSTRAINT "scheduled_actions_status_check" CHECK ("scheduled_actions"."status" in ('scheduled', 'running', 'completed', 'halted', 'cancelled', 'failed')),
	CONSTRAINT "scheduled_actions_version_target_check" CHECK ("scheduled_actions"."action_type" = 'restart' or "scheduled_actions"."target_image_tag" is not null)
);
--> statement-breakpoint
ALTER TABLE "scheduled_action_stages" ADD CONSTRAINT "scheduled_action_stages_action_id_scheduled_actions_id_fk" FOREIGN KEY ("action_id") REFERENCES "public"."scheduled_actions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scheduled_action_targets" ADD CONSTRAINT "scheduled_action_targets_action_id_scheduled_actions_id_fk" FOREIGN KEY ("action_id") REFERENCES "public"."scheduled_actions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scheduled_action_targets" ADD CONSTRAINT "scheduled_action_targets_stage_id_scheduled_action_stages_id_fk" FOREIGN KEY ("stage_id") REFERENCES "public"."scheduled_action_stages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scheduled_action_targets" ADD CONSTRAINT "scheduled_action_targets_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scheduled_action_targets" ADD CONSTRAINT "scheduled_action_targets_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scheduled_action_targets" ADD CONSTRAINT "scheduled_action_targets_operation_id_instance_operations_id_fk" FOREIGN KEY ("operation_id") REFERENCES "public"."instance_operations"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scheduled_actions" ADD CONSTRAINT "scheduled_actions_target_image_tag_image_catalog_image_tag_fk" FOREIGN KEY ("target_image_tag") REFERENCES "public"."image_catalog"("image_tag") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scheduled_actions" ADD CONSTRAINT "scheduled_actions_created_by_admin_id_admins_id_fk" FOREIGN KEY ("created_by_admin_id") REFERENCES "public"."admins"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "scheduled_action_stages_action_index_key" ON "scheduled_action_stages" USING btree ("action_id","index");--> statement-breakpoint
CREATE INDEX "scheduled_action_stages_due_idx" ON "scheduled_action_stages" USING btree ("scheduled_at") WHERE "scheduled_action_stages"."status" in ('pending', 'running');--> statement-breakpoint
CREATE UNIQUE INDEX "scheduled_action_targets_one_active_per_instance" ON "scheduled_action_targets" USING btree ("instance_id") WHERE "scheduled_action_targets"."status" in ('pending', 'running');--> statement-breakpoint
CREATE INDEX "scheduled_action_targets_stage_status_idx" ON "scheduled_action_targets" USING btree ("stage_id","status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "scheduled_action_targets_action_status_idx" ON "scheduled_action_targets" USING btree ("action_id","status","id");--> statement-breakpoint
CREATE INDEX "scheduled_action_targets_operation_idx" ON "scheduled_action_targets" USING btree ("operation_id");--> statement-breakpoint
CREATE INDEX "scheduled_action_targets_instance_idx" ON "scheduled_action_targets" USING btree ("instance_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "scheduled_actions_run_at_idx" ON "scheduled_actions" USING btree ("run_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "scheduled_actions_status_run_at_idx" ON "scheduled_actions" USING btree ("status","run_at" DESC NULLS LAST,"id" DESC NULLS LAST);