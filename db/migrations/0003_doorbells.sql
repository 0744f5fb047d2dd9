CREATE TABLE "sim_qstash_dedup" (
	"key" text PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sim_qstash_dlq" (
	"dlq_id" text PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"message" jsonb NOT NULL,
	"response_status" integer,
	"response_headers" jsonb,
	"response_body" text,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sim_qstash_events" (
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
CREATE TABLE "sim_qstash_messages" (
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
CREATE TABLE "sim_qstash_schedules" (
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
CREATE TABLE "sweep_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"started_at" timestamp (3) with time zone NOT NULL,
	"finished_at" timestamp (3) with time zone,
	"found" integer DEFAULT 0 NOT NULL,
	"rerung" integer DEFAULT 0 NOT NULL,
	"leases_returned" integer DEFAULT 0 NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"message_id" text
);
--> statement-breakpoint
CREATE INDEX "sim_qstash_dlq_created_at_idx" ON "sim_qstash_dlq" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "sim_qstash_events_message_idx" ON "sim_qstash_events" USING btree ("message_id","id");--> statement-breakpoint
CREATE INDEX "sim_qstash_messages_due_idx" ON "sim_qstash_messages" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "sweep_runs_started_at_idx" ON "sweep_runs" USING btree ("started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "sweep_runs_message_id_key" ON "sweep_runs" USING btree ("message_id") WHERE "sweep_runs"."message_id" is not null;