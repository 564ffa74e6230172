import { and, desc, eq, gte, inArray, isNull, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { InboundMessage } from '../core/message.js';
import type { Clock } from '../core/ports.js';
import type { Tx } from '../db/client.js';
import { type Conversation, conversations, messages } from '../db/schema.js';
import { type ConversationMatcher, newReplyToken } from './receive.js';

/** Order numbers as the platform prints them. */
const ORDER_NUMBER = /\bKF\d{8}\b/g;

/** How long a same-subject message from the same sender still joins a conversation. */
export const SUBJECT_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/** The order numbers a message names, in order of appearance. */
export function orderNumbersIn(text: string): string[] {
  return [...new Set(text.match(ORDER_NUMBER) ?? [])];
}

const StoredThread = z.object({ orderNumber: z.string().optional(), subject: z.string().nullable().optional() }).loose();
const StateWithOrder = z.object({ slots: z.object({ orderNumber: z.string().nullable().optional() }).loose() }).loose();

/**
 * Joins a message that carries a thread hint to its conversation: by reply token, then by a
 * Message-ID it answers (In-Reply-To/References against stored message ids), then by the same
 * sender and subject within a window. A reply naming a different order number than its
 * conversation starts a new conversation linked to it instead of being glued on.
 * Messages without a hint (no threading in their channel) fall through to the default.
 */
export function createThreadMatcher(clock: Clock, windowMs: number = SUBJECT_WINDOW_MS): ConversationMatcher {
  return async (tx, inbound, identity) => {
    const hint = inbound.thread;
    if (!hint) return null;
    const found = await findThread(tx, inbound, identity, clock.now(), windowMs);
    if (!found) return newTopic(tx, inbound, identity, clock.now());
    if (found.status === 'closed') return null;
    // The new text decides; a subject usually still carries the thread's old number ("Re: 退款 KF…").
    const inText = orderNumbersIn(inbound.text);
    const named = inText.length > 0 ? inText : orderNumbersIn(hint.subject ?? '');
    const current = conversationOrderNumber(found);
    if (current !== null && named.length > 0 && !named.includes(current)) {
      return openLinkedConversation(tx, found, identity, clock.now());
    }
    return found;
  };
}

/** What a message with a thread hint adds to its conversation's `thread` (merged, first subject kept). */
export function threadPatch(inbound: InboundMessage): { initial: Record<string, unknown>; latest: Record<string, unknown> } | null {
  const hint = inbound.thread;
  if (!hint) return null;
  const order = orderNumbersIn(`${hint.subject ?? ''}\n${inbound.text}`)[0];
  return {
    initial: { ...(hint.subject ? { subject: hint.subject } : {}), ...(order ? { orderNumber: order } : {}) },
    // Auto-replies and bounces are not what our next reply answers.
    latest: inbound.silent ? {} : { lastInboundId: inbound.externalMessageId, references: hint.inReplyTo.slice(0, 10).reverse() },
  };
}

async function findThread(
  tx: Tx,
  inbound: InboundMessage,
  identity: { id: string },
  now: Date,
  windowMs: number,
): Promise<Conversation | null> {
  const hint = inbound.thread;
  if (!hint) return null;
  if (hint.conversationToken) {
    const [byToken] = await tx.select().from(conversations).where(eq(conversations.replyToken, hint.conversationToken)).limit(1);
    if (byToken) return byToken;
  }
  if (hint.inReplyTo.length > 0) {
    const [byReference] = await tx
      .select({ conversation: conversations })
      .from(messages)
      .innerJoin(conversations, eq(conversations.id, messages.conversationId))
      .where(and(eq(messages.channel, inbound.channel), inArray(messages.externalId, hint.inReplyTo.slice(0, 50))))
      .orderBy(desc(messages.seq))
      .limit(1);
    if (byReference) return byReference.conversation;
  }
  if (hint.subject) {
    const [bySubject] = await tx
      .select()
      .from(conversations)
      .where(
        and(
          eq(conversations.channelIdentityId, identity.id),
          ne(conversations.status, 'closed'),
          sql`${conversations.thread}->>'subject' = ${hint.subject}`,
          gte(conversations.lastMessageAt, new Date(now.getTime() - windowMs)),
        ),
      )
      .orderBy(desc(conversations.lastMessageAt))
      .limit(1);
    if (bySubject) return bySubject;
  }
  return null;
}

/**
 * A message that answers nothing (no reply token, In-Reply-To or References) and names a subject
 * other than the sender's open conversation is a new topic: it opens its own conversation, linked
 * to that open one for agents, instead of being glued onto it. Without a subject, or with the
 * open conversation's own subject, the default (the open conversation) stands.
 */
async function newTopic(tx: Tx, inbound: InboundMessage, identity: { id: string; customerId: string }, now: Date): Promise<Conversation | null> {
  const hint = inbound.thread;
  if (!hint?.subject || hint.conversationToken || hint.inReplyTo.length > 0) return null;
  const [open] = await tx
    .select()
    .from(conversations)
    .where(and(eq(conversations.channelIdentityId, identity.id), ne(conversations.status, 'closed'), isNull(conversations.parentConversationId)))
    .limit(1);
  if (!open) return null;
  const thread = StoredThread.safeParse(open.thread);
  if (thread.success && thread.data.subject === hint.subject) return null;
  return openLinkedConversation(tx, open, identity, now);
}

function conversationOrderNumber(conversation: Conversation): string | null {
  const thread = StoredThread.safeParse(conversation.thread);
  if (thread.success && thread.data.orderNumber) return thread.data.orderNumber;
  const state = StateWithOrder.safeParse(conversation.state);
  return state.success ? (state.data.slots.orderNumber ?? null) : null;
}

async function openLinkedConversation(
  tx: Tx,
  parent: Conversation,
  identity: { id: string; customerId: string },
  now: Date,
): Promise<Conversation> {
  const [created] = await tx
    .insert(conversations)
    .values({
      customerId: identity.customerId,
      channelIdentityId: identity.id,
      channel: parent.channel,
      locale: parent.locale,
      replyToken: newReplyToken(),
      parentConversationId: parent.id,
      createdAt: now,
      updatedAt: now,
      lastMessageAt: now,
    })
    .returning();
  if (!created) throw new Error('conversation insert returned no row');
  return created;
}
