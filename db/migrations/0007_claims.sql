ALTER TABLE "instance_operations" RENAME COLUMN "lease_token" TO "claim_token";--> statement-breakpoint
ALTER TABLE "scheduled_actions" DROP CONSTRAINT "scheduled_actions_status_check";--> statement-breakpoint
ALTER TABLE "instance_operations" ADD COLUMN "expected_state" text;--> statement-breakpoint
ALTER TABLE "instance_operations" ADD COLUMN "claimed_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "scheduled_action_stages" ADD COLUMN "pending" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "scheduled_action_stages" ADD COLUMN "running" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "scheduled_action_stages" ADD COLUMN "wake_at_running" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "scheduled_action_targets" ADD COLUMN "claim_token" uuid;--> statement-breakpoint
ALTER TABLE "scheduled_actions" ADD COLUMN "max_in_flight" integer DEFAULT 50 NOT NULL;--> statement-breakpoint
ALTER TABLE "scheduled_actions" ADD COLUMN "include_stopped" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "scheduled_actions" ADD COLUMN "paused_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "instance_operations" DROP COLUMN "previous_version";--> statement-breakpoint
ALTER TABLE "scheduled_action_targets" DROP COLUMN "lease_until";--> statement-breakpoint
ALTER TABLE "instance_operations" ADD CONSTRAINT "instance_operations_expected_state_check" CHECK ("instance_operations"."expected_state" is null or "instance_operations"."expected_state" in ('started', 'stopped'));--> statement-breakpoint
ALTER TABLE "scheduled_actions" ADD CONSTRAINT "scheduled_actions_max_in_flight_check" CHECK ("scheduled_actions"."max_in_flight" between 1 and 1000);--> statement-breakpoint
ALTER TABLE "scheduled_actions" ADD CONSTRAINT "scheduled_actions_status_check" CHECK ("scheduled_actions"."status" in ('scheduled', 'running', 'paused', 'completed', 'halted', 'cancelled', 'failed'));--> statement-breakpoint
-- Open counters for stages scheduled before they existed: counted once from the targets.
UPDATE "scheduled_action_stages" AS s SET "pending" = c.pending, "running" = c.running
FROM (
  SELECT "stage_id",
    count(*) FILTER (WHERE "status" = 'pending')::int AS pending,
    count(*) FILTER (WHERE "status" = 'running')::int AS running
  FROM "scheduled_action_targets" GROUP BY "stage_id"
) AS c
WHERE c."stage_id" = s."id";
