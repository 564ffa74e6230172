import { randomBytes } from 'node:crypto';
import { and, asc, eq, isNull, ne, sql } from 'drizzle-orm';
import type { Clock } from '../core/ports.js';
import { detectLocale } from '../core/locale.js';
import { maskSecrets } from '../core/mask.js';
import { InboundMessage, type InboundMessageInput } from '../core/message.js';
import type { Db, Tx } from '../db/client.js';
import { channelIdentities, conversations, customers, messages } from '../db/schema.js';
import type { Conversation } from '../db/schema.js';
import { resolveNumberedChoice } from './numbered-choice.js';
import { threadPatch } from './thread-matcher.js';

export interface ReceiveResult {
  messageId: string;
  conversationId: string;
  customerId: string;
  channelIdentityId: string;
  duplicate: boolean;
}

/** Picks the open conversation a message belongs to; channels' threading rules plug in here. */
export type ConversationMatcher = (
  tx: Tx,
  inbound: InboundMessage,
  identity: { id: string; customerId: string },
) => Promise<Conversation | null>;

export interface ReceiveDeps {
  db: Db;
  clock: Clock;
  matchConversation?: ConversationMatcher;
  /** Channels whose quick replies go out as numbered text: a bare number there answers them. */
  numberedChoices?: (channel: InboundMessage['channel']) => boolean;
}

/**
 * Stores one inbound message durably before the channel is acknowledged: dedupes on the channel's
 * own message id, resolves the customer and the open conversation, all in one transaction.
 * The flow engine runs afterwards (see Processor); nothing here waits on it.
 */
export async function receiveInbound(deps: ReceiveDeps, input: InboundMessageInput): Promise<ReceiveResult> {
  const inbound = InboundMessage.parse(input);
  const now = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const identity = await upsertIdentity(tx, inbound, now);
    // The upsert above locks the identity row, so messages from one sender are stored one at a time:
    // a redelivered message waits here and then finds the first copy.
    const [existing] = await tx
      .select({ id: messages.id, conversationId: messages.conversationId })
      .from(messages)
      .where(and(eq(messages.channel, inbound.channel), eq(messages.externalId, inbound.externalMessageId)))
      .limit(1);
    if (existing) {
      return {
        messageId: existing.id,
        conversationId: existing.conversationId,
        customerId: identity.customerId,
        channelIdentityId: identity.id,
        duplicate: true,
      };
    }
    const conversation =
      (await deps.matchConversation?.(tx, inbound, identity)) ?? (await openConversation(tx, inbound, identity, now));
    const numbered =
      inbound.choice === null && deps.numberedChoices?.(inbound.channel) ? await resolveNumberedChoice(tx, conversation.id, inbound.text) : null;
    const [row] = await tx
      .insert(messages)
      .values({
        conversationId: conversation.id,
        direction: 'in',
        author: 'customer',
        channel: inbound.channel,
        externalId: inbound.externalMessageId,
        text: maskSecrets(numbered?.label ?? inbound.text),
        choice: numbered?.choice ?? inbound.choice,
        attachments: inbound.attachments,
        original: inbound.original === null ? null : maskSecrets(inbound.original),
        deliveryStatus: 'received',
        processedAt: inbound.silent ? now : null,
        channelRef: inbound.channelMessageRef,
        editOfMessageId: inbound.editOf === null ? null : await findEditedOriginal(tx, inbound.channel, inbound.editOf),
        createdAt: inbound.receivedAt ?? now,
      })
      .returning({ id: messages.id });
    if (!row) throw new Error('message insert returned no row');
    const thread = threadPatch(inbound);
    await tx
      .update(conversations)
      .set({
        lastMessageAt: now,
        updatedAt: now,
        // Threading data (email subject, Message-IDs): the first subject stays, the latest ids win.
        ...(thread ? { thread: sql`${JSON.stringify(thread.initial)}::jsonb || ${conversations.thread} || ${JSON.stringify(thread.latest)}::jsonb` } : {}),
      })
      .where(eq(conversations.id, conversation.id));
    return {
      messageId: row.id,
      conversationId: conversation.id,
      customerId: identity.customerId,
      channelIdentityId: identity.id,
      duplicate: false,
    };
  });
}

/** The first stored version of an edited message (edits keep history: each version is its own row). */
async function findEditedOriginal(tx: Tx, channel: InboundMessage['channel'], ref: string): Promise<string | null> {
  const [original] = await tx
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.channel, channel), eq(messages.channelRef, ref), isNull(messages.editOfMessageId)))
    .orderBy(asc(messages.seq))
    .limit(1);
  return original?.id ?? null;
}

async function upsertIdentity(tx: Tx, inbound: InboundMessage, now: Date) {
  const { sender } = inbound;
  // Touching the row locks it until commit: the per-sender mutex of intake.
  const [found] = await tx
    .update(channelIdentities)
    .set({ lastSeenAt: now, ...(sender.displayName ? { displayName: sender.displayName } : {}) })
    .where(and(eq(channelIdentities.channel, inbound.channel), eq(channelIdentities.externalId, sender.externalId)))
    .returning({ id: channelIdentities.id, customerId: channelIdentities.customerId });
  if (found) return found;
  const resolved = await resolveCustomer(tx, inbound);
  const [created] = await tx
    .insert(channelIdentities)
    .values({
      customerId: resolved.id,
      channel: inbound.channel,
      externalId: sender.externalId,
      displayName: sender.displayName,
      lastSeenAt: now,
    })
    .onConflictDoUpdate({
      target: [channelIdentities.channel, channelIdentities.externalId],
      set: { lastSeenAt: now },
    })
    .returning({ id: channelIdentities.id, customerId: channelIdentities.customerId });
  if (!created) throw new Error('identity upsert returned no row');
  // A concurrent first message created the identity first: drop the guest we made for nothing.
  if (resolved.guest && created.customerId !== resolved.id) await tx.delete(customers).where(eq(customers.id, resolved.id));
  return created;
}

/** Finds the customer a new identity belongs to (by email or phone), or creates a guest. */
async function resolveCustomer(tx: Tx, inbound: InboundMessage): Promise<{ id: string; guest: boolean }> {
  const { sender } = inbound;
  if (sender.customerId) {
    const [known] = await tx.select({ id: customers.id }).from(customers).where(eq(customers.id, sender.customerId)).limit(1);
    if (known) return { id: known.id, guest: false };
  }
  if (sender.email) {
    const [byEmail] = await tx.select({ id: customers.id }).from(customers).where(eq(customers.email, sender.email)).limit(1);
    if (byEmail) return { id: byEmail.id, guest: false };
  }
  if (sender.phone) {
    const [byPhone] = await tx.select({ id: customers.id }).from(customers).where(eq(customers.phone, sender.phone)).limit(1);
    if (byPhone) return { id: byPhone.id, guest: false };
  }
  const [guest] = await tx
    .insert(customers)
    .values({
      name: sender.displayName,
      email: sender.email,
      locale: inbound.locale ?? detectLocale(inbound.text) ?? 'zh-Hans',
      guest: true,
    })
    .returning({ id: customers.id });
  if (!guest) throw new Error('customer insert returned no row');
  return { id: guest.id, guest: true };
}

async function openConversation(
  tx: Tx,
  inbound: InboundMessage,
  identity: { id: string; customerId: string },
  now: Date,
): Promise<Conversation> {
  const [open] = await tx
    .select()
    .from(conversations)
    .where(and(eq(conversations.channelIdentityId, identity.id), ne(conversations.status, 'closed')))
    .limit(1);
  if (open) return open;
  const [customer] = await tx
    .select({ locale: customers.locale })
    .from(customers)
    .where(eq(customers.id, identity.customerId))
    .limit(1);
  const [created] = await tx
    .insert(conversations)
    .values({
      customerId: identity.customerId,
      channelIdentityId: identity.id,
      channel: inbound.channel,
      locale: inbound.locale ?? detectLocale(inbound.text) ?? customer?.locale ?? 'zh-Hans',
      replyToken: randomBytes(9).toString('base64url'),
      createdAt: now,
      updatedAt: now,
      lastMessageAt: now,
    })
    .returning();
  if (!created) throw new Error('conversation insert returned no row');
  return created;
}
