CREATE TABLE "agent_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"agent_id" uuid NOT NULL,
	"instance_id" uuid NOT NULL,
	"trigger" text NOT NULL,
	"scheduled_for" timestamp (3) with time zone NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"prompt" text NOT NULL,
	"controller_session_id" text,
	"claim_token" uuid,
	"claimed_at" timestamp (3) with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_until" timestamp (3) with time zone,
	"next_check_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (3) with time zone,
	"ended_at" timestamp (3) with time zone,
	CONSTRAINT "agent_sessions_trigger_check" CHECK ("agent_sessions"."trigger" in ('api', 'cron', 'manual')),
	CONSTRAINT "agent_sessions_status_check" CHECK ("agent_sessions"."status" in ('buffered', 'creating', 'ready', 'completed', 'failed', 'skipped')),
	CONSTRAINT "agent_sessions_reason_check" CHECK ("agent_sessions"."reason" is null or "agent_sessions"."reason" in ('overlap', 'instance_not_running', 'agent_disabled', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "agents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"instance_id" uuid NOT NULL,
	"name" text NOT NULL,
	"prompt" text NOT NULL,
	"cron_expression" text,
	"time_zone" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"overlap_policy" text DEFAULT 'skip' NOT NULL,
	"catchup_policy" text DEFAULT 'skip' NOT NULL,
	"catchup_window_seconds" integer DEFAULT 3600 NOT NULL,
	"next_fire_at" timestamp (3) with time zone,
	"last_fired_at" timestamp (3) with time zone,
	"last_outcome" text,
	"disabled_reason" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agents_overlap_policy_check" CHECK ("agents"."overlap_policy" in ('skip', 'buffer_one', 'allow_all', 'cancel_other')),
	CONSTRAINT "agents_catchup_policy_check" CHECK ("agents"."catchup_policy" in ('skip', 'once', 'all')),
	CONSTRAINT "agents_catchup_window_check" CHECK ("agents"."catchup_window_seconds" between 60 and 604800),
	CONSTRAINT "agents_prompt_length_check" CHECK (char_length("agents"."prompt") between 1 and 10000),
	CONSTRAINT "agents_cron_expression_length_check" CHECK ("agents"."cron_expression" is null or char_length("agents"."cron_expression") <= 120)
);
--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD CONSTRAINT "agent_sessions_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD CONSTRAINT "agent_sessions_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "agent_sessions_one_per_fire_time" ON "agent_sessions" USING btree ("agent_id","scheduled_for") WHERE "agent_sessions"."trigger" = 'cron';--> statement-breakpoint
CREATE INDEX "agent_sessions_agent_created_idx" ON "agent_sessions" USING btree ("agent_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "agent_sessions_live_idx" ON "agent_sessions" USING btree ("agent_id") WHERE "agent_sessions"."status" in ('buffered', 'creating', 'ready');--> statement-breakpoint
CREATE INDEX "agent_sessions_due_idx" ON "agent_sessions" USING btree ("next_check_at") WHERE "agent_sessions"."status" in ('creating', 'ready');--> statement-breakpoint
CREATE INDEX "agents_enabled_next_fire_at_idx" ON "agents" USING btree ("enabled","next_fire_at");--> statement-breakpoint
CREATE INDEX "agents_instance_id_idx" ON "agents" USING btree ("instance_id","name","id");--> statement-breakpoint
CREATE INDEX "agents_name_id_idx" ON "agents" USING btree ("name","id");