CREATE TABLE "pull_requests" (
	"task_id" text PRIMARY KEY NOT NULL,
	"forge" text NOT NULL,
	"repository" text NOT NULL,
	"number" integer,
	"url" text,
	"state" text,
	"head_commit" text,
	"error" text,
	"retries" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "pull_requests" ADD CONSTRAINT "pull_requests_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE no action ON UPDATE no action;