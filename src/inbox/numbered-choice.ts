import { and, desc, eq } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { messages } from '../db/schema.js';

const BARE_NUMBER = /^\s*[(（]?\s*(\d{1,2})\s*[)）.。、]?\s*$/u;

/**
 * On channels without buttons, quick replies go out as numbered options: a reply that is just a
 * number ("2", "2.") answers the options of the bot's last message. Returns the chosen quick
 * reply, or null when the text is not a bare number or names no option.
 */
export async function resolveNumberedChoice(
  tx: Tx,
  conversationId: string,
  text: string,
): Promise<{ choice: string; label: string } | null> {
  const m = BARE_NUMBER.exec(text);
  if (!m?.[1]) return null;
  const [last] = await tx
    .select({ quickReplies: messages.quickReplies })
    .from(messages)
    .where(and(eq(messages.conversationId, conversationId), eq(messages.direction, 'out'), eq(messages.author, 'bot')))
    .orderBy(desc(messages.seq))
    .limit(1);
  const picked = last?.quickReplies?.[Number(m[1]) - 1];
  return picked ? { choice: picked.id, label: picked.label } : null;
}
