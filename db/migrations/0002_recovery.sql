DROP INDEX "workspaces_task_idx";--> statement-breakpoint
ALTER TABLE "errors" ADD COLUMN "kind" text DEFAULT 'failure' NOT NULL;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "disk_percent" real;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "health_checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "provision_lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "restart_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "last_restart_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "run_id" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "run_event_id" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "run_dispatched_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "redrive_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "cleaned_up_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "cleanup_lease_until" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "errors_created_idx" ON "errors" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "tasks_node_idx" ON "tasks" USING btree ("node_id");--> statement-breakpoint
CREATE INDEX "workspaces_task_idx" ON "workspaces" USING btree ("task_id");--> statement-breakpoint
-- Tasks that ended before cleanup was tracked were cleaned up by the run that ended them.
UPDATE "tasks" SET "cleaned_up_at" = coalesce("completed_at", "updated_at") WHERE "status" IN ('completed', 'failed', 'cancelled');--> statement-breakpoint
UPDATE "tasks" SET "run_dispatched_at" = "created_at" WHERE "run_dispatched_at" IS NULL;
