CREATE TABLE "turn_spend" (
	"session_id" text NOT NULL,
	"task_id" text NOT NULL,
	"user_id" text NOT NULL,
	"turn" integer NOT NULL,
	"message_id" text NOT NULL,
	"input_tokens" bigint NOT NULL,
	"output_tokens" bigint NOT NULL,
	"cache_read_tokens" bigint NOT NULL,
	"cache_write_tokens" bigint NOT NULL,
	"cost_usd" double precision NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "turn_spend_session_id_turn_message_id_pk" PRIMARY KEY("session_id","turn","message_id")
);
--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "budget_usd" double precision;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "budget_paused_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "budget_reason" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "budget_interrupted_turn" integer;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "budgets" jsonb;--> statement-breakpoint
CREATE INDEX "turn_spend_user_idx" ON "turn_spend" USING btree ("user_id","created_at");