CREATE TABLE "notice_deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"action_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"channel" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"next_attempt_at" timestamp (3) with time zone NOT NULL,
	"max_attempts" integer DEFAULT 8 NOT NULL,
	"claim_token" uuid,
	"claimed_at" timestamp (3) with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_until" timestamp (3) with time zone,
	"batch_id" uuid,
	"sent_at" timestamp (3) with time zone,
	"provider_message_id" text,
	"push_tickets" jsonb,
	"receipts_checked_at" timestamp (3) with time zone,
	"last_error" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notice_deliveries_kind_check" CHECK ("notice_deliveries"."kind" in ('notice', 'cancelled')),
	CONSTRAINT "notice_deliveries_channel_check" CHECK ("notice_deliveries"."channel" in ('email', 'push', 'webapp')),
	CONSTRAINT "notice_deliveries_status_check" CHECK ("notice_deliveries"."status" in ('pending', 'sending', 'sent', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "scheduled_action_notice_settings" (
	"action_id" uuid PRIMARY KEY NOT NULL,
	"notify" boolean DEFAULT true NOT NULL,
	"lead_minutes" integer DEFAULT 1440 NOT NULL,
	"subject" text,
	"body" text,
	"channels" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "scheduled_action_notice_settings_lead_check" CHECK ("scheduled_action_notice_settings"."lead_minutes" between 0 and 10080)
);
--> statement-breakpoint
CREATE TABLE "scheduled_action_notices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"action_id" uuid NOT NULL,
	"target_id" uuid NOT NULL,
	"instance_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"delivery_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"channel" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"due_at" timestamp (3) with time zone NOT NULL,
	"action_at" timestamp (3) with time zone NOT NULL,
	"sent_at" timestamp (3) with time zone,
	"last_error" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "scheduled_action_notices_kind_check" CHECK ("scheduled_action_notices"."kind" in ('notice', 'cancelled')),
	CONSTRAINT "scheduled_action_notices_channel_check" CHECK ("scheduled_action_notices"."channel" in ('email', 'push', 'webapp')),
	CONSTRAINT "scheduled_action_notices_status_check" CHECK ("scheduled_action_notices"."status" in ('pending', 'sending', 'sent', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "user_push_tokens" (
	"token" text PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "notice_deliveries" ADD CONSTRAINT "notice_deliveries_action_id_scheduled_actions_id_fk" FOREIGN KEY ("action_id") REFERENCES "public"."scheduled_actions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notice_deliveries" ADD CONSTRAINT "notice_deliveries_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scheduled_action_notice_settings" ADD CONSTRAINT "scheduled_action_notice_settings_action_id_scheduled_actions_id_fk" FOREIGN KEY ("action_id") REFERENCES "public"."scheduled_actions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scheduled_action_notices" ADD CONSTRAINT "scheduled_action_notices_action_id_scheduled_actions_id_fk" FOREIGN KEY ("action_id") REFERENCES "public"."scheduled_actions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scheduled_action_notices" ADD CONSTRAINT "scheduled_action_notices_target_id_scheduled_action_targets_id_fk" FOREIGN KEY ("target_id") REFERENCES "public"."scheduled_action_targets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scheduled_action_notices" ADD CONSTRAINT "scheduled_action_notices_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scheduled_action_notices" ADD CONSTRAINT "scheduled_action_notices_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scheduled_action_notices" ADD CONSTRAINT "scheduled_action_notices_delivery_id_notice_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."notice_deliveries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_push_tokens" ADD CONSTRAINT "user_push_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "notice_deliveries_notice_key" ON "notice_deliveries" USING btree ("action_id","user_id","channel") WHERE "notice_deliveries"."kind" = 'notice';--> statement-breakpoint
CREATE UNIQUE INDEX "notice_deliveries_open_cancelled_key" ON "notice_deliveries" USING btree ("action_id","user_id","channel") WHERE "notice_deliveries"."kind" = 'cancelled' and "notice_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "notice_deliveries_due_idx" ON "notice_deliveries" USING btree ("channel","next_attempt_at") WHERE "notice_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "notice_deliveries_sending_idx" ON "notice_deliveries" USING btree ("lease_until") WHERE "notice_deliveries"."status" = 'sending';--> statement-breakpoint
CREATE INDEX "notice_deliveries_receipts_idx" ON "notice_deliveries" USING btree ("sent_at") WHERE "notice_deliveries"."channel" = 'push' and "notice_deliveries"."status" = 'sent' and "notice_deliveries"."receipts_checked_at" is null;--> statement-breakpoint
CREATE INDEX "notice_deliveries_action_idx" ON "notice_deliveries" USING btree ("action_id","channel","status");--> statement-breakpoint
CREATE UNIQUE INDEX "scheduled_action_notices_target_kind_channel_key" ON "scheduled_action_notices" USING btree ("target_id","kind","channel");--> statement-breakpoint
CREATE INDEX "scheduled_action_notices_pending_due_idx" ON "scheduled_action_notices" USING btree ("due_at") WHERE "scheduled_action_notices"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "scheduled_action_notices_delivery_idx" ON "scheduled_action_notices" USING btree ("delivery_id");--> statement-breakpoint
CREATE INDEX "scheduled_action_notices_instance_idx" ON "scheduled_action_notices" USING btree ("instance_id","channel","due_at");--> statement-breakpoint
CREATE INDEX "scheduled_action_notices_action_idx" ON "scheduled_action_notices" USING btree ("action_id","status");--> statement-breakpoint
CREATE INDEX "user_push_tokens_user_idx" ON "user_push_tokens" USING btree ("user_id");