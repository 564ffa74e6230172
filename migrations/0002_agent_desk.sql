CREATE TABLE "macros" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"team" text DEFAULT 'support' NOT NULL,
	"title" text NOT NULL,
	"body" jsonb NOT NULL,
	"created_by_agent_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "locale" "locale" DEFAULT 'zh-Hans' NOT NULL;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "team" text DEFAULT 'support' NOT NULL;--> statement-breakpoint
ALTER TABLE "macros" ADD CONSTRAINT "macros_created_by_agent_id_agents_id_fk" FOREIGN KEY ("created_by_agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "macros_team_idx" ON "macros" USING btree ("team","title");