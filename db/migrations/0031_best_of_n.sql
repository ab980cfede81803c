ALTER TABLE "tasks" ADD COLUMN "group_id" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "candidate" integer;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "picked_task_id" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "picked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "other_branches" text;--> statement-breakpoint
CREATE INDEX "tasks_group_idx" ON "tasks" USING btree ("group_id");