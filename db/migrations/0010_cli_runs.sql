CREATE TABLE "cli_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"instance_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"initiated_by" text NOT NULL,
	"initiated_by_admin_id" uuid,
	"initiated_by_label" text NOT NULL,
	"prompt" text NOT NULL,
	"status" text DEFAULT 'starting' NOT NULL,
	"exit_code" integer,
	"controller_run_id" text,
	"app_name" text NOT NULL,
	"machine_id" text NOT NULL,
	"instance_name" text NOT NULL,
	"user_email" text NOT NULL,
	"search_text" text DEFAULT '' NOT NULL,
	"output_tail" text DEFAULT '' NOT NULL,
	"output_size" bigint DEFAULT 0 NOT NULL,
	"last_error" text,
	"next_check_at" timestamp (3) with time zone,
	"follow_delay_ms" integer DEFAULT 2000 NOT NULL,
	"deadline_at" timestamp (3) with time zone NOT NULL,
	"claim_token" uuid,
	"claimed_at" timestamp (3) with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_until" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (3) with time zone,
	"ended_at" timestamp (3) with time zone,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cli_runs_status_check" CHECK ("cli_runs"."status" in ('starting', 'running', 'completed', 'failed', 'cancelled')),
	CONSTRAINT "cli_runs_initiated_by_check" CHECK ("cli_runs"."initiated_by" in ('user', 'admin')),
	CONSTRAINT "cli_runs_prompt_length_check" CHECK (char_length("cli_runs"."prompt") between 1 and 10000)
);
--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "hold_kind" text;--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "hold_id" uuid;--> statement-breakpoint
ALTER TABLE "cli_runs" ADD CONSTRAINT "cli_runs_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cli_runs" ADD CONSTRAINT "cli_runs_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cli_runs" ADD CONSTRAINT "cli_runs_initiated_by_admin_id_admins_id_fk" FOREIGN KEY ("initiated_by_admin_id") REFERENCES "public"."admins"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "cli_runs_one_live_per_instance" ON "cli_runs" USING btree ("instance_id") WHERE "cli_runs"."status" in ('starting', 'running');--> statement-breakpoint
CREATE INDEX "cli_runs_instance_created_idx" ON "cli_runs" USING btree ("instance_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "cli_runs_created_idx" ON "cli_runs" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "cli_runs_status_created_idx" ON "cli_runs" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE INDEX "cli_runs_live_due_idx" ON "cli_runs" USING btree ("next_check_at") WHERE "cli_runs"."status" in ('starting', 'running');--> statement-breakpoint
CREATE INDEX "cli_runs_search_trgm_idx" ON "cli_runs" USING gin ("search_text" gin_trgm_ops);--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_hold_kind_check" CHECK ("instances"."hold_kind" in ('cli_run'));--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_hold_check" CHECK (("instances"."hold_kind" is null) = ("instances"."hold_id" is null));