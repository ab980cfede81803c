ALTER TABLE "nodes" ADD COLUMN "purged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "workspaces" ADD COLUMN "purged_at" timestamp with time zone;