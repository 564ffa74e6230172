import { and, asc, eq, gt, ne } from 'drizzle-orm';
import type { Db } from './db/client.js';
import { channelIdentities, conversations, messages } from './db/schema.js';

/** Prints bot, agent and system messages after `seq` for a web chat identity; returns the new position. */
export async function printTranscript(
  db: Db,
  externalId: string,
  afterSeq: number,
  out: NodeJS.WritableStream = process.stdout,
): Promise<{ seq: number; quickReplies: { id: string; label: string }[] | null }> {
  const rows = await db
    .select({ seq: messages.seq, author: messages.author, text: messages.text, quickReplies: messages.quickReplies })
    .from(messages)
    .innerJoin(conversations, eq(conversations.id, messages.conversationId))
    .innerJoin(channelIdentities, eq(channelIdentities.id, conversations.channelIdentityId))
    .where(
      and(
        eq(channelIdentities.channel, 'webchat'),
        eq(channelIdentities.externalId, externalId),
        gt(messages.seq, afterSeq),
        ne(messages.direction, 'in'),
        ne(messages.direction, 'internal'),
        eq(messages.deliveryStatus, 'sent'),
      ),
    )
    .orderBy(asc(messages.seq));
  let quickReplies: { id: string; label: string }[] | null = null;
  let seq = afterSeq;
  for (const row of rows) {
    seq = row.seq;
    out.write(`\n[${row.author}] ${row.text}\n`);
    if (row.quickReplies && row.quickReplies.length > 0) {
      quickReplies = row.quickReplies;
      row.quickReplies.forEach((q, i) => out.write(`   ${i + 1}. ${q.label}\n`));
    }
  }
  return { seq, quickReplies };
}
