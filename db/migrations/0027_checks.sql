ALTER TABLE "task_messages" ADD COLUMN "author" text DEFAULT 'person' NOT NULL;--> statement-breakpoint
ALTER TABLE "task_turns" ADD COLUMN "checks" jsonb;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "checks" jsonb;