ALTER TABLE "reconcile_runs" ADD COLUMN "recoveries_retried" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "recoveries" ADD COLUMN "waiting_for" text;--> statement-breakpoint
ALTER TABLE "recoveries" ADD COLUMN "waiting_since" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "recoveries" ADD COLUMN "waits" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "recoveries" ADD COLUMN "old_machine_destroyed_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "recoveries" ADD COLUMN "retry_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "recoveries" ADD COLUMN "auto_retries" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "recoveries_retry_idx" ON "recoveries" USING btree ("retry_at") WHERE "recoveries"."status" = 'failed' and "recoveries"."retry_at" is not null;--> statement-breakpoint
ALTER TABLE "recoveries" ADD CONSTRAINT "recoveries_waiting_for_check" CHECK ("recoveries"."waiting_for" is null or "recoveries"."waiting_for" in ('host_unreachable', 'insufficient_capacity'));