CREATE TABLE "agent_output" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"task_id" text NOT NULL,
	"turn" integer NOT NULL,
	"offset" bigint NOT NULL,
	"lines" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "agent_output_session_offset_idx" ON "agent_output" USING btree ("session_id","offset");--> statement-breakpoint
CREATE INDEX "agent_output_task_idx" ON "agent_output" USING btree ("task_id","id");