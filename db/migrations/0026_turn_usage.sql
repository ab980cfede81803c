ALTER TABLE "task_turns" ADD COLUMN "input_tokens" bigint;--> statement-breakpoint
ALTER TABLE "task_turns" ADD COLUMN "output_tokens" bigint;--> statement-breakpoint
ALTER TABLE "task_turns" ADD COLUMN "cache_read_tokens" bigint;--> statement-breakpoint
ALTER TABLE "task_turns" ADD COLUMN "cache_write_tokens" bigint;--> statement-breakpoint
ALTER TABLE "task_turns" ADD COLUMN "cost_usd" double precision;--> statement-breakpoint
ALTER TABLE "task_turns" ADD COLUMN "cost_source" text;--> statement-breakpoint
ALTER TABLE "workspaces" ADD COLUMN "ended_at" timestamp with time zone;--> statement-breakpoint
-- Workspaces that ended before this column: their last update is when they ended.
UPDATE "workspaces" SET "ended_at" = "updated_at" WHERE "status" IN ('stopped', 'error');
