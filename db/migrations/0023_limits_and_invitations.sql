CREATE TABLE "invitations" (
	"email" text PRIMARY KEY NOT NULL,
	"invited_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"accepted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "user_actions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"kind" text NOT NULL,
	"task_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agent_output" ADD COLUMN "bytes" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "boot_log" ADD COLUMN "bytes" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "output_bytes" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "output_dropped_lines" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "output_dropped_bytes" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "user_actions_user_kind_created_idx" ON "user_actions" USING btree ("user_id","kind","created_at");--> statement-breakpoint
-- Existing output and boot logs: their sizes, and each task's total, so the caps count what is already stored.
UPDATE "agent_output" SET "bytes" = octet_length("lines"::text);--> statement-breakpoint
UPDATE "boot_log" SET "bytes" = octet_length("lines"::text);--> statement-breakpoint
UPDATE "tasks" SET "output_bytes" = o."bytes" FROM (SELECT "task_id", sum("bytes") AS "bytes" FROM "agent_output" GROUP BY "task_id") o WHERE o."task_id" = "tasks"."id";--> statement-breakpoint
-- People who already joined a team control plane keep their way in (an admin may remove them).
INSERT INTO "invitations" ("email", "invited_by", "accepted_at") SELECT "email", NULL, "created_at" FROM "users" WHERE "id" <> 'local' ON CONFLICT DO NOTHING;
