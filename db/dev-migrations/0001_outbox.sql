CREATE TABLE "sim_outbox_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"channel" text NOT NULL,
	"recipient" text NOT NULL,
	"subject" text NOT NULL,
	"text" text NOT NULL,
	"html" text,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"idempotency_key" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sim_outbox_messages_channel_check" CHECK ("sim_outbox_messages"."channel" in ('email', 'push'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "sim_outbox_messages_idempotency_key" ON "sim_outbox_messages" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "sim_outbox_messages_created_idx" ON "sim_outbox_messages" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "sim_outbox_messages_recipient_idx" ON "sim_outbox_messages" USING btree (lower("recipient"));