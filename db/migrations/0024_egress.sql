CREATE TABLE "egress_refusals" (
	"workspace_id" text NOT NULL,
	"task_id" text NOT NULL,
	"host" text NOT NULL,
	"port" integer NOT NULL,
	"reason" text NOT NULL,
	"count" bigint NOT NULL,
	"first_at" timestamp with time zone NOT NULL,
	"last_at" timestamp with time zone NOT NULL,
	CONSTRAINT "egress_refusals_workspace_id_host_port_reason_pk" PRIMARY KEY("workspace_id","host","port","reason")
);
--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "egress" text;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "egress_reason" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "egress" jsonb;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "network_settings" jsonb;--> statement-breakpoint
CREATE INDEX "egress_refusals_task_idx" ON "egress_refusals" USING btree ("task_id");