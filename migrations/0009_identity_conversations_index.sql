DROP INDEX "conversations_identity_open_idx";--> statement-breakpoint
CREATE INDEX "conversations_identity_idx" ON "conversations" USING btree ("channel_identity_id");