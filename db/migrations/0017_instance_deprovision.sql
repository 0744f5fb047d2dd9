CREATE TABLE "instance_deprovisions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"instance_id" uuid NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"step" text DEFAULT 'waiting' NOT NULL,
	"requested_by" text NOT NULL,
	"machine_id" text,
	"volume_id" text,
	"app_name" text NOT NULL,
	"claim_token" uuid,
	"claimed_at" timestamp (3) with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_until" timestamp (3) with time zone,
	"step_failures" integer DEFAULT 0 NOT NULL,
	"last_note" text,
	"next_attempt_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"machine_destroyed_at" timestamp (3) with time zone,
	"volume_outcome" text,
	"volume_note" text,
	"retain_until" timestamp (3) with time zone,
	"volume_deleted_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"destroyed_at" timestamp (3) with time zone,
	"ended_at" timestamp (3) with time zone,
	CONSTRAINT "instance_deprovisions_status_check" CHECK ("instance_deprovisions"."status" in ('pending', 'running', 'succeeded')),
	CONSTRAINT "instance_deprovisions_step_check" CHECK ("instance_deprovisions"."step" in ('waiting', 'ending_work', 'destroying_machine', 'deleting_volume', 'retaining', 'destroyed')),
	CONSTRAINT "instance_deprovisions_volume_outcome_check" CHECK ("instance_deprovisions"."volume_outcome" is null or "instance_deprovisions"."volume_outcome" in ('deleted', 'gone', 'retained', 'refused'))
);
--> statement-breakpoint
ALTER TABLE "instances" DROP CONSTRAINT "instances_hold_kind_check";--> statement-breakpoint
ALTER TABLE "instance_deprovisions" ADD CONSTRAINT "instance_deprovisions_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "instance_deprovisions_instance_key" ON "instance_deprovisions" USING btree ("instance_id");--> statement-breakpoint
CREATE INDEX "instance_deprovisions_due_idx" ON "instance_deprovisions" USING btree ("next_attempt_at") WHERE "instance_deprovisions"."status" in ('pending', 'running');--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_hold_kind_check" CHECK ("instances"."hold_kind" in ('cli_run', 'deprovision'));