CREATE TABLE "boot_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"task_id" text NOT NULL,
	"at" bigint NOT NULL,
	"stages" jsonb NOT NULL,
	"lines" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "boot_log_message_id_unique" UNIQUE("message_id")
);
--> statement-breakpoint
CREATE INDEX "boot_log_workspace_idx" ON "boot_log" USING btree ("workspace_id","at");