ALTER TABLE "tasks" ADD COLUMN "wakes_sent" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" DROP COLUMN "wake_sent_at";