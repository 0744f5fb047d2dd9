-- pg_trgm backs the substring search on instances (GIN trigram index below).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"actor_type" text NOT NULL,
	"actor_id" text,
	"actor_label" text NOT NULL,
	"action" text NOT NULL,
	"subject_type" text,
	"subject_id" text,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"request_id" text,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_log_actor_type_check" CHECK ("audit_log"."actor_type" in ('admin', 'api_key', 'system'))
);
--> statement-breakpoint
CREATE TABLE "admin_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"admin_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	"user_agent" text
);
--> statement-breakpoint
CREATE TABLE "admins" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"display_name" text,
	"password_hash" text NOT NULL,
	"must_change_password" boolean DEFAULT false NOT NULL,
	"time_zone" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"last_login_at" timestamp (3) with time zone,
	"disabled_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"prefix" text NOT NULL,
	"hash" text NOT NULL,
	"label" text NOT NULL,
	"created_by" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp (3) with time zone,
	"revoked_at" timestamp (3) with time zone,
	CONSTRAINT "api_keys_kind_check" CHECK ("api_keys"."kind" in ('admin', 'platform'))
);
--> statement-breakpoint
CREATE TABLE "login_throttle" (
	"key" text PRIMARY KEY NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"window_started_at" timestamp (3) with time zone NOT NULL,
	"locked_until" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "image_catalog" (
	"image_tag" text PRIMARY KEY NOT NULL,
	"version_label" text NOT NULL,
	"variant" text DEFAULT 'default' NOT NULL,
	"status" text DEFAULT 'available' NOT NULL,
	"is_latest" boolean DEFAULT false NOT NULL,
	"published_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "image_catalog_status_check" CHECK ("image_catalog"."status" in ('available', 'disabled'))
);
--> statement-breakpoint
CREATE TABLE "instances" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"name" text NOT NULL,
	"app_name" text NOT NULL,
	"machine_id" text,
	"volume_id" text,
	"region" text NOT NULL,
	"image_tag" text,
	"status" text DEFAULT 'provisioning' NOT NULL,
	"search_text" text DEFAULT '' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "instances_status_check" CHECK ("instances"."status" in ('provisioning', 'running', 'stopped', 'restarting', 'recovering', 'destroying', 'destroyed', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "version_pins" (
	"instance_id" uuid PRIMARY KEY NOT NULL,
	"image_tag" text NOT NULL,
	"pinned_by" uuid,
	"reason" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"display_name" text,
	"time_zone" text DEFAULT 'UTC' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (3) with time zone
);
--> statement-breakpoint
ALTER TABLE "admin_sessions" ADD CONSTRAINT "admin_sessions_admin_id_admins_id_fk" FOREIGN KEY ("admin_id") REFERENCES "public"."admins"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_created_by_admins_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."admins"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_image_tag_image_catalog_image_tag_fk" FOREIGN KEY ("image_tag") REFERENCES "public"."image_catalog"("image_tag") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "version_pins" ADD CONSTRAINT "version_pins_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "version_pins" ADD CONSTRAINT "version_pins_image_tag_image_catalog_image_tag_fk" FOREIGN KEY ("image_tag") REFERENCES "public"."image_catalog"("image_tag") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "version_pins" ADD CONSTRAINT "version_pins_pinned_by_admins_id_fk" FOREIGN KEY ("pinned_by") REFERENCES "public"."admins"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_log_actor_idx" ON "audit_log" USING btree ("actor_id","at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_log_action_idx" ON "audit_log" USING btree ("action","at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_log_subject_idx" ON "audit_log" USING btree ("subject_type","subject_id","at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "admin_sessions_token_hash_key" ON "admin_sessions" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "admin_sessions_admin_id_idx" ON "admin_sessions" USING btree ("admin_id");--> statement-breakpoint
CREATE UNIQUE INDEX "admins_email_key" ON "admins" USING btree (lower("email"));--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_prefix_key" ON "api_keys" USING btree ("prefix");--> statement-breakpoint
CREATE INDEX "api_keys_kind_created_at_idx" ON "api_keys" USING btree ("kind","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "image_catalog_one_latest_per_variant" ON "image_catalog" USING btree ("variant") WHERE "image_catalog"."is_latest";--> statement-breakpoint
CREATE UNIQUE INDEX "instances_name_key" ON "instances" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "instances_machine_key" ON "instances" USING btree ("app_name","machine_id");--> statement-breakpoint
CREATE INDEX "instances_user_id_idx" ON "instances" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "instances_created_at_idx" ON "instances" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "instances_name_id_idx" ON "instances" USING btree ("name","id");--> statement-breakpoint
CREATE INDEX "instances_status_id_idx" ON "instances" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "instances_region_id_idx" ON "instances" USING btree ("region","id");--> statement-breakpoint
CREATE INDEX "instances_image_tag_id_idx" ON "instances" USING btree (coalesce("image_tag", ''),"id");--> statement-breakpoint
CREATE INDEX "instances_search_trgm_idx" ON "instances" USING gin ("search_text" gin_trgm_ops);--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_key" ON "users" USING btree (lower("email"));--> statement-breakpoint
CREATE INDEX "users_created_at_idx" ON "users" USING btree ("created_at","id");