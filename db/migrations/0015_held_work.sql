ALTER TABLE "tasks" ADD COLUMN "push_error" text;--> statement-breakpoint
ALTER TABLE "workspaces" ADD COLUMN "held_at" timestamp with time zone;