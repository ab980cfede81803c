ALTER TABLE "nodes" ADD COLUMN "isolation" text;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "isolation_reason" text;