ALTER TYPE "public"."agent_role" ADD VALUE 'editor';--> statement-breakpoint
CREATE TABLE "studio_heads" (
	"document_id" text PRIMARY KEY NOT NULL,
	"draft_id" uuid,
	"published_id" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "studio_labels" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"text" text NOT NULL,
	"intent" text NOT NULL,
	"lang" text NOT NULL,
	"author_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "studio_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"document_id" text NOT NULL,
	"number" integer NOT NULL,
	"content" text NOT NULL,
	"author_id" uuid,
	"comment" text DEFAULT '' NOT NULL,
	"parent_id" uuid,
	"name" text,
	"published_at" timestamp with time zone,
	"published_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "studio_labels" ADD CONSTRAINT "studio_labels_author_id_agents_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "studio_versions" ADD CONSTRAINT "studio_versions_author_id_agents_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "studio_versions" ADD CONSTRAINT "studio_versions_published_by_agents_id_fk" FOREIGN KEY ("published_by") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "studio_labels_text_uq" ON "studio_labels" USING btree ("text");--> statement-breakpoint
CREATE UNIQUE INDEX "studio_versions_doc_number_uq" ON "studio_versions" USING btree ("document_id","number");