CREATE TABLE "task_turns" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"task_id" text NOT NULL,
	"session_id" text NOT NULL,
	"turn" integer NOT NULL,
	"commit_sha" text,
	"pushed" boolean DEFAULT false NOT NULL,
	"error" text,
	"diff" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "task_turns" ADD CONSTRAINT "task_turns_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "task_turns_session_turn_idx" ON "task_turns" USING btree ("session_id","turn");--> statement-breakpoint
CREATE INDEX "task_turns_task_idx" ON "task_turns" USING btree ("task_id","id");