import { randomUUID } from 'node:crypto';
import type { DbOrTx } from '../db/client.js';
import { messages, outbox } from '../db/schema.js';
import type { Conversation } from '../db/schema.js';
import type { Reply } from './responder.js';

/**
 * Writes outgoing messages and their outbox rows; call it inside the transaction that made the
 * decision, so a reply exists exactly when its cause does.
 */
export async function writeReplies(
  tx: DbOrTx,
  conversation: Pick<Conversation, 'id' | 'channel'>,
  replies: (Omit<Reply, 'author'> & { author?: 'bot' | 'system' | 'agent'; agentId?: string })[],
  now: Date,
): Promise<string[]> {
  if (replies.length === 0) return [];
  // Ids are made here so the messages and their outbox rows go in one statement (one round trip).
  // Spread timestamps by a millisecond so replies keep their order wherever they are sorted by time.
  const rows = replies.map((r, i) => ({
    id: randomUUID(),
    conversationId: conversation.id,
    direction: 'out' as const,
    author: r.author ?? 'bot',
    agentId: r.agentId ?? null,
    channel: conversation.channel,
    text: r.text,
    quickReplies: r.quickReplies && r.quickReplies.length > 0 ? r.quickReplies : null,
    deliveryStatus: 'pending' as const,
    createdAt: new Date(now.getTime() + i),
  }));
  const inserted = tx.$with('inserted_messages', { id: messages.id }).as(tx.insert(messages).values(rows).returning({ id: messages.id }).getSQL());
  await tx
    .with(inserted)
    .insert(outbox)
    .values(rows.map((r) => ({ messageId: r.id, conversationId: conversation.id, channel: conversation.channel, nextAttemptAt: now })));
  return rows.map((r) => r.id);
}
