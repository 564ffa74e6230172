import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { conversations, messages } from '../db/schema.js';
import type { LiveHub } from '../inbox/live-hub.js';
import type { Logger } from '../logger.js';

/**
 * An agent has the case open in front of them: the customer's messages written so far are seen.
 * Moves the conversation's read-up-to marker (`agent_seen_at`) forward, only when a customer
 * message is newer than it (so re-reading changes nothing and sends nothing), and tells the
 * consumer's live stream (the web chat shows "seen by a support agent").
 */
export async function markSeenByAgent(deps: { db: Db; hub: LiveHub; logger?: Pick<Logger, 'warn'> }, conversationId: string, now: Date): Promise<void> {
  const newestIn = sql<Date>`(select max(${messages.createdAt}) from ${messages} where ${messages.conversationId} = ${conversationId} and ${messages.direction} = 'in')`;
  const [moved] = await deps.db
    .update(conversations)
    // A message's time may come from the sender's clock (an email's Date): the marker covers it either way.
    .set({ agentSeenAt: sql`greatest(${now.toISOString()}::timestamptz, ${newestIn})` })
    .where(and(eq(conversations.id, conversationId), or(isNull(conversations.agentSeenAt), lt(conversations.agentSeenAt, newestIn))))
    .returning({ channelIdentityId: conversations.channelIdentityId });
  if (!moved) return;
  await deps.hub
    .publish({ type: 'conversation', conversationId, channelIdentityId: moved.channelIdentityId })
    .catch((err: unknown) => deps.logger?.warn({ err, conversationId }, 'live.publish_failed'));
}
