ALTER TABLE "notice_deliveries" DROP CONSTRAINT "notice_deliveries_status_check";--> statement-breakpoint
ALTER TABLE "scheduled_action_notices" DROP CONSTRAINT "scheduled_action_notices_status_check";--> statement-breakpoint
ALTER TABLE "notice_deliveries" ADD CONSTRAINT "notice_deliveries_status_check" CHECK ("notice_deliveries"."status" in ('pending', 'sending', 'sent', 'failed', 'skipped'));--> statement-breakpoint
ALTER TABLE "scheduled_action_notices" ADD CONSTRAINT "scheduled_action_notices_status_check" CHECK ("scheduled_action_notices"."status" in ('pending', 'sending', 'sent', 'failed', 'skipped'));--> statement-breakpoint
UPDATE "notice_deliveries" SET "status" = 'skipped', "last_error" = 'no device: the user has no push token registered' WHERE "status" = 'failed' AND "last_error" = 'no push token registered for this user';--> statement-breakpoint
UPDATE "scheduled_action_notices" SET "status" = 'skipped', "last_error" = 'no device: the user has no push token registered' WHERE "status" = 'failed' AND "last_error" = 'no push token registered for this user';
