CREATE TABLE "instance_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"instance_id" uuid NOT NULL,
	"type" text NOT NULL,
	"actor_label" text DEFAULT 'system' NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "instance_operations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"instance_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"step" text DEFAULT 'call' NOT NULL,
	"from_image_tag" text,
	"target_image_tag" text,
	"expected_version" text,
	"previous_version" text,
	"requested_by" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"probe_failures" integer DEFAULT 0 NOT NULL,
	"last_note" text,
	"lease_until" timestamp (3) with time zone,
	"lease_token" uuid,
	"next_check_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deadline_at" timestamp (3) with time zone NOT NULL,
	"error" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "instance_operations_kind_check" CHECK ("instance_operations"."kind" in ('provision', 'restart', 'version_change', 'stop', 'start')),
	CONSTRAINT "instance_operations_status_check" CHECK ("instance_operations"."status" in ('pending', 'running', 'succeeded', 'failed')),
	CONSTRAINT "instance_operations_step_check" CHECK ("instance_operations"."step" in ('call', 'settle', 'probe', 'done'))
);
--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "machine_version" text;--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "instance_events" ADD CONSTRAINT "instance_events_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instance_operations" ADD CONSTRAINT "instance_operations_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "instance_events_instance_at_idx" ON "instance_events" USING btree ("instance_id","at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "instance_operations_one_active_per_instance" ON "instance_operations" USING btree ("instance_id") WHERE "instance_operations"."status" in ('pending', 'running');--> statement-breakpoint
CREATE INDEX "instance_operations_instance_created_idx" ON "instance_operations" USING btree ("instance_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "instance_operations_due_idx" ON "instance_operations" USING btree ("next_check_at") WHERE "instance_operations"."status" in ('pending', 'running');