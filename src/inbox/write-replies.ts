import { randomUUID } from 'node:crypto';
import type { DbOrTx } from '../db/client.js';
import { messages, outbox } from '../db/schema.js';
import type { Conversation } from '../db/schema.js';
import type { Reply } from './responder.js';

type OutgoingReply = Omit<Reply, 'author'> & { author?: 'bot' | 'system' | 'agent'; agentId?: string };

/**
 * The statements that store replies and queue them for delivery, as CTEs to run with another
 * statement (the bot turn's state update): a reply exists exactly when its cause does, in one
 * round trip. Ids are made here so the messages and their outbox rows go in together; timestamps
 * are spread by a millisecond so replies keep their order wherever they are sorted by time.
 */
export function replyStatements(
  tx: DbOrTx,
  conversation: Pick<Conversation, 'id' | 'channel'>,
  replies: OutgoingReply[],
  now: Date,
  /** The channel reads replies from our store: they are delivered once committed (no outbox row). */
  delivered = false,
) {
  const rows = replies.map((r, i) => ({
    id: randomUUID(),
    conversationId: conversation.id,
    direction: 'out' as const,
    author: r.author ?? 'bot',
    agentId: r.agentId ?? null,
    channel: conversation.channel,
    text: r.text,
    quickReplies: r.quickReplies && r.quickReplies.length > 0 ? r.quickReplies : null,
    deliveryStatus: delivered ? ('sent' as const) : ('pending' as const),
    createdAt: new Date(now.getTime() + i),
  }));
  if (rows.length === 0) return { ids: [] as string[], ctes: [] };
  const inserted = tx.$with('inserted_messages', { id: messages.id }).as(tx.insert(messages).values(rows).returning({ id: messages.id }).getSQL());
  if (delivered) return { ids: rows.map((r) => r.id), ctes: [inserted] };
  const queued = tx.$with('queued_outbox', { id: outbox.id }).as(
    tx
      .insert(outbox)
      .values(rows.map((r) => ({ messageId: r.id, conversationId: conversation.id, channel: conversation.channel, nextAttemptAt: now })))
      .returning({ id: outbox.id })
      .getSQL(),
  );
  return { ids: rows.map((r) => r.id), ctes: [inserted, queued] };
}

/**
 * Writes outgoing messages and their outbox rows; call it inside the transaction that made the
 * decision, so a reply exists exactly when its cause does.
 */
export async function writeReplies(
  tx: DbOrTx,
  conversation: Pick<Conversation, 'id' | 'channel'>,
  replies: OutgoingReply[],
  now: Date,
): Promise<string[]> {
  const { ids, ctes } = replyStatements(tx, conversation, replies, now);
  const [inserted, queued] = ctes;
  if (!inserted || !queued) return [];
  await tx.with(inserted, queued).select({ n: queued.id }).from(queued);
  return ids;
}
