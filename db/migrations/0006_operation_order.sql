-- Existing rows are numbered in creation order (an identity added in one step would number them in storage order), then new rows continue from there.
ALTER TABLE "instance_operations" ADD COLUMN "seq" bigint;--> statement-breakpoint
UPDATE "instance_operations" AS o SET "seq" = n.rn FROM (SELECT "id", row_number() OVER (ORDER BY "created_at", "id") AS rn FROM "instance_operations") AS n WHERE o."id" = n."id";--> statement-breakpoint
ALTER TABLE "instance_operations" ALTER COLUMN "seq" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "instance_operations" ALTER COLUMN "seq" ADD GENERATED ALWAYS AS IDENTITY (sequence name "instance_operations_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1);--> statement-breakpoint
SELECT setval('"instance_operations_seq_seq"', (SELECT coalesce(max("seq"), 0) + 1 FROM "instance_operations"), false);--> statement-breakpoint
DROP INDEX "instance_operations_instance_created_idx";--> statement-breakpoint
CREATE INDEX "instance_operations_instance_seq_idx" ON "instance_operations" USING btree ("instance_id","seq" DESC NULLS LAST);
