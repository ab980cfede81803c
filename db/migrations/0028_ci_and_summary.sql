ALTER TABLE "task_turns" ADD COLUMN "ci" jsonb;--> statement-breakpoint
ALTER TABLE "task_turns" ADD COLUMN "summary" text;