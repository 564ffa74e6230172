import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { desc, eq } from 'drizzle-orm';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Locale } from '../core/message.js';
import type { DbOrTx, Tx } from '../db/client.js';
import { conversations, progressNotices } from '../db/schema.js';
import { writeReplies } from '../inbox/write-replies.js';
import { interpolate, type Vars } from '../i18n/catalog.js';

const Localized = z.object({ 'zh-Hans': z.string().min(1), 'zh-Hant': z.string().min(1), en: z.string().min(1) });

export const Decision = z.enum(['refund', 'partial_refund', 'redo', 'apology', 'compensation', 'rejected']);
export type Decision = z.infer<typeof Decision>;

/** flows/progress-messages.yaml: what kefu tells consumers on its own about their refunds and cases. */
export const ProgressMessages = z.object({
  refund_approved: Localized,
  refund_paid: Localized,
  refund_denied: Localized,
  no_reason: Localized,
  agent_assigned: Localized,
  merchant_responded: Localized,
  case_decided: Localized,
  decisions: z.object({
    refund: Localized,
    partial_refund: Localized,
    redo: Localized,
    apology: Localized,
    compensation: Localized,
    rejected: Localized,
  }) satisfies z.ZodType<Record<Decision, unknown>>,
  expiry_refunded: Localized,
  compensation_paid: Localized,
  status_line: z.object({ approved: Localized, paid: Localized, pending_review: Localized, denied: Localized }),
});
export type ProgressMessages = z.infer<typeof ProgressMessages>;

export const PROGRESS_MESSAGES_PATH = join(import.meta.dirname, '../../flows/progress-messages.yaml');

/** Loads and validates flows/progress-messages.yaml. */
export function loadProgressMessages(path: string = PROGRESS_MESSAGES_PATH): ProgressMessages {
  return ProgressMessages.parse(parse(readFileSync(path, 'utf8')));
}

/** The kinds of progress update, one wording entry each. */
export type ProgressKind =
  | 'refund_approved'
  | 'refund_paid'
  | 'refund_denied'
  | 'agent_assigned'
  | 'merchant_responded'
  | 'case_decided'
  | 'expiry_refunded'
  | 'compensation_paid';

/** Renders one wording entry for a locale. */
export function say(entry: z.infer<typeof Localized>, locale: Locale, vars: Vars): string {
  return interpolate(entry[locale], vars);
}

/**
 * Tells the consumer one progress update in their conversation's channel and language, exactly
 * once per `key` (the progress_notices primary key), inside the transaction that caused it: the
 * message and its outbox row exist exactly when the cause does. Returns whether it wrote.
 */
export async function tellConsumer(
  tx: Tx,
  wording: ProgressMessages,
  input: { key: string; kind: ProgressKind; conversationId: string; vars: (locale: Locale) => Vars; text?: (locale: Locale) => string },
  now: Date,
): Promise<boolean> {
  const [c] = await tx
    .select({ id: conversations.id, channel: conversations.channel, locale: conversations.locale })
    .from(conversations)
    .where(eq(conversations.id, input.conversationId));
  if (!c) return false;
  const [claimed] = await tx
    .insert(progressNotices)
    .values({ key: input.key, kind: input.kind, conversationId: c.id, createdAt: now })
    .onConflictDoNothing()
    .returning({ key: progressNotices.key });
  if (!claimed) return false;
  const text = input.text ? input.text(c.locale) : say(wording[input.kind], c.locale, input.vars(c.locale));
  const [messageId] = await writeReplies(tx, c, [{ author: 'system', text }], now);
  await tx.update(progressNotices).set({ messageId: messageId ?? null }).where(eq(progressNotices.key, input.key));
  return true;
}

/** The customer's most recent conversation (the channel they last used), for updates without a case. */
export async function latestConversationOf(db: DbOrTx, customerId: string): Promise<string | null> {
  const [row] = await db
    .select({ id: conversations.id })
    .from(conversations)
    .where(eq(conversations.customerId, customerId))
    .orderBy(desc(conversations.lastMessageAt))
    .limit(1);
  return row?.id ?? null;
}
