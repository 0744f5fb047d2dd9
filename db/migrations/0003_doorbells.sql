-- The QStash emulator's sim_qstash_* tables, once also created here, moved to
-- db/dev-migrations (docs/adr/0005); what remains is the sweep's own table.
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
CREATE INDEX "sweep_runs_started_at_idx" ON "sweep_runs" USING btree ("started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "sweep_runs_message_id_key" ON "sweep_runs" USING btree ("message_id") WHERE "sweep_runs"."message_id" is not null;