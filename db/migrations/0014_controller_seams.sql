ALTER TABLE "agent_sessions" DROP CONSTRAINT "agent_sessions_reason_check";--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD COLUMN "start_unknown_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "cli_runs" ADD COLUMN "output_reported_size" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "cli_runs" ADD COLUMN "output_cut_reason" text;--> statement-breakpoint
ALTER TABLE "cli_runs" ADD COLUMN "cleanup" text;--> statement-breakpoint
CREATE INDEX "cli_runs_cleanup_due_idx" ON "cli_runs" USING btree ("next_check_at") WHERE "cli_runs"."cleanup" = 'pending';--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD CONSTRAINT "agent_sessions_reason_check" CHECK ("agent_sessions"."reason" is null or "agent_sessions"."reason" in ('overlap', 'instance_not_running', 'agent_disabled', 'cancelled', 'machine_lost'));--> statement-breakpoint
ALTER TABLE "cli_runs" ADD CONSTRAINT "cli_runs_cleanup_check" CHECK ("cli_runs"."cleanup" is null or "cli_runs"."cleanup" in ('pending', 'confirmed', 'machine_gone'));