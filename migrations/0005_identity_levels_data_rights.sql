CREATE TYPE "public"."identity_level" AS ENUM('proven', 'claimed', 'anonymous');--> statement-breakpoint
ALTER TABLE "channel_identities" ADD COLUMN "proven_by" text;--> statement-breakpoint
ALTER TABLE "channel_identities" ADD COLUMN "proven_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "identity_level" "identity_level" DEFAULT 'anonymous' NOT NULL;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "erased_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "masked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "subject" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "identity_level" "identity_level";--> statement-breakpoint
ALTER TABLE "webchat_sessions" ADD COLUMN "identity_level" "identity_level";