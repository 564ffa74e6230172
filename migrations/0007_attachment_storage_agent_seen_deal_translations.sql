ALTER TABLE "attachment_blobs" ALTER COLUMN "bytes" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "attachment_blobs" ADD COLUMN "storage" text DEFAULT 'postgres' NOT NULL;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "agent_seen_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "translations" jsonb DEFAULT '{}'::jsonb NOT NULL;