CREATE TABLE "machine_registrations" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"token_hash" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"used_at" timestamp with time zone,
	"node_id" text,
	"address" text,
	"agent_port" integer,
	CONSTRAINT "machine_registrations_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
ALTER TABLE "machine_registrations" ADD CONSTRAINT "machine_registrations_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "machine_registrations" ADD CONSTRAINT "machine_registrations_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "machine_registrations_user_idx" ON "machine_registrations" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "machine_registrations_node_idx" ON "machine_registrations" USING btree ("node_id");