import { storableStrings } from './sanitize-inbound.js';
import { randomBytes } from 'node:crypto';
import { and, asc, eq, isNull, ne, sql } from 'drizzle-orm';
import type { IdentityLevel } from '../core/identity.js';
import type { Clock } from '../core/ports.js';
import { detectLocale } from '../core/locale.js';
import { maskSecrets } from '../core/mask.js';
import { InboundMessage, type InboundMessageInput } from '../core/message.js';
import type { Db, Tx } from '../db/client.js';
import { channelIdentities, conversations, customers, messages } from '../db/schema.js';
import type { Conversation } from '../db/schema.js';
import { resolveNumberedChoice } from './numbered-choice.js';
import { threadPatch } from './thread-matcher.js';
import type { FastIntake, IntakeBatch } from './intake-batch.js';
import { liveEventSql } from './live-hub.js';
import { writeReplies } from './write-replies.js';

/**
 * A conversation's reply-address token: 128 random bits, so that only the mailbox we sent it to
 * can answer through it (it proves the sender; see levelOf).
 */
export function newReplyToken(): string {
  return randomBytes(16).toString('base64url');
}

export interface ReceiveResult {
  messageId: string;
  conversationId: string;
  customerId: string;
  channelIdentityId: string;
  duplicate: boolean;
}

/**
 * Picks the open conversation a message belongs to; channels' threading rules plug in here.
 * Called only for messages that carry a thread hint.
 */
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
  /** Announce each stored message to live views (NOTIFY) in the statement that stores it. */
  announce?: boolean;
  /** The shared statement for the common case (see createIntakeBatch); without it every message takes the general path. */
  batch?: IntakeBatch;
}

/**
 * Stores one inbound message durably before the channel is acknowledged: dedupes on the channel's
 * own message id, resolves the customer and the open conversation, all in one transaction.
 * The flow engine runs afterwards (see Processor); nothing here waits on it.
 */
export async function receiveInbound(deps: ReceiveDeps, input: InboundMessageInput): Promise<ReceiveResult> {
  const inbound = InboundMessage.parse(storableStrings(input));
  const now = deps.clock.now();
  try {
    const fast = await storeInboundFast(deps, inbound, now);
    if (fast instanceof DuplicateInbound) throw fast;
    return fast ?? (await storeInbound(deps, inbound, now));
  } catch (err) {
    if (!(err instanceof DuplicateInbound)) throw err;
    // Everything the duplicate's transaction did is rolled back; the first copy is committed.
    const [existing] = await deps.db
      .select({ id: messages.id, conversationId: messages.conversationId })
      .from(messages)
      .where(and(eq(messages.channel, inbound.channel), eq(messages.externalId, inbound.externalMessageId)))
      .limit(1);
    if (!existing) throw new Error('duplicate inbound message vanished');
    return {
      messageId: existing.id,
      conversationId: existing.conversationId,
      customerId: err.identity.customerId,
      channelIdentityId: err.identity.id,
      duplicate: true,
    };
  }
}

/**
 * The common case without a transaction, in one statement shared with other messages arriving at
 * the same moment (see intakeFast): a known sender with an open conversation sends a plain message.
 * Returns null when the message needs the general path (new sender or conversation, threading,
 * numbered choices, edits, channel notices); what it did then (the identity's lastSeenAt) is harmless.
 */
async function storeInboundFast(deps: ReceiveDeps, inbound: InboundMessage, now: Date): Promise<ReceiveResult | DuplicateInbound | null> {
  const numbered = inbound.choice === null && deps.numberedChoices?.(inbound.channel);
  if (!deps.batch || inbound.thread || numbered || inbound.editOf !== null || inbound.notices?.length) return null;
  let found: FastIntake;
  try {
    found = await deps.batch(inbound, now);
  } catch {
    // The shared statement failed as a whole (nothing of it was stored): each message goes the general way.
    return null;
  }
  if (found.kind === 'general') return null;
  if (found.kind === 'duplicate') return new DuplicateInbound(found.identity);
  return { messageId: found.messageId, conversationId: found.conversationId, customerId: found.customerId, channelIdentityId: found.channelIdentityId, duplicate: false };
}

/** Thrown inside the intake transaction when the message was stored before: rolls it back. */
class DuplicateInbound extends Error {
  constructor(readonly identity: { id: string; customerId: string }) {
    super('duplicate inbound message');
  }
}

/**
 * The intake transaction, in as few round trips as the common case allows: the identity upsert
 * also finds the open conversation, and the message insert (deduped by the unique channel id)
 * carries the conversation's update.
 */
async function storeInbound(deps: ReceiveDeps, inbound: InboundMessage, now: Date): Promise<ReceiveResult> {
  return deps.db.transaction(async (tx) => {
    // The upsert locks the identity row, so messages from one sender are stored one at a time:
    // a redelivered message waits here and then hits the first copy's unique key.
    const identity = await upsertIdentity(tx, inbound, now);
    const conversation =
      (inbound.thread ? await deps.matchConversation?.(tx, inbound, identity) : null) ??
      (identity.openConversationId
        ? { id: identity.openConversationId, channel: inbound.channel }
        : await openConversation(tx, inbound, identity, now));
    const numbered =
      inbound.choice === null && deps.numberedChoices?.(inbound.channel) ? await resolveNumberedChoice(tx, conversation.id, inbound.text) : null;
    const identityLevel = await levelOf(tx, inbound, identity, now);
    const thread = threadPatch(inbound);
    const touched = tx.$with('touched_conversation', { id: conversations.id }).as(
      tx
        .update(conversations)
        .set({
          lastMessageAt: now,
          updatedAt: now,
          identityLevel,
          // Threading data (email subject, Message-IDs): the first subject stays, the latest ids win.
          ...(thread ? { thread: sql`${JSON.stringify(thread.initial)}::jsonb || ${conversations.thread} || ${JSON.stringify(thread.latest)}::jsonb` } : {}),
        })
        .where(eq(conversations.id, conversation.id))
        .returning({ id: conversations.id })
        .getSQL(),
    );
    const [row] = await tx
      .with(touched)
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
        identityLevel,
        subject: inbound.thread?.messageSubject ? maskSecrets(inbound.thread.messageSubject) : null,
        editOfMessageId: inbound.editOf === null ? null : await findEditedOriginal(tx, inbound.channel, inbound.editOf),
        createdAt: inbound.receivedAt ?? now,
      })
      .onConflictDoNothing({ target: [messages.channel, messages.externalId] })
      .returning({
        id: messages.id,
        ...(deps.announce ? { announced: liveEventSql({ type: 'message', conversationId: conversation.id, channelIdentityId: identity.id }) } : {}),
      });
    if (!row) throw new DuplicateInbound(identity);
    // The channel's own answer (e.g. Telegram's "share my phone number") commits with its cause.
    if (inbound.notices?.length) await writeReplies(tx, conversation, inbound.notices.map((n) => ({ author: 'system' as const, ...n })), now);
    return {
      messageId: row.id,
      conversationId: conversation.id,
      customerId: identity.customerId,
      channelIdentityId: identity.id,
      duplicate: false,
    };
  });
}

/**
 * The identity level of one message: what the channel proved, a proof remembered on the identity
 * (only where the channel authenticates the sender's id), or the conversation's reply address
 * coming back from that conversation's own sender. A proof the channel wants remembered is stored.
 */
async function levelOf(
  tx: Tx,
  inbound: InboundMessage,
  identity: { id: string; provenBy: string | null },
  now: Date,
): Promise<IdentityLevel> {
  const claim = inbound.identity;
  if (claim.level === 'proven') {
    if (claim.remember && identity.provenBy === null) {
      await tx
        .update(channelIdentities)
        .set({ provenBy: claim.basis ?? 'channel', provenAt: now })
        .where(eq(channelIdentities.id, identity.id));
    }
    return 'proven';
  }
  if (claim.remember && identity.provenBy !== null) return 'proven';
  const token = inbound.thread?.conversationToken;
  if (claim.replyTokenProves && token) {
    // Bound to the conversation and its address: the token proves only for the identity it was sent to.
    const [owner] = await tx
      .select({ identityId: conversations.channelIdentityId })
      .from(conversations)
      .where(eq(conversations.replyToken, token))
      .limit(1);
    if (owner?.identityId === identity.id) return 'proven';
  }
  return claim.level;
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

export async function upsertIdentity(tx: Tx, inbound: InboundMessage, now: Date) {
  const { sender } = inbound;
  // Touching the row locks it until commit: the per-sender mutex of intake.
  const [found] = await tx
    .update(channelIdentities)
    .set({ lastSeenAt: now, ...(sender.displayName ? { displayName: sender.displayName } : {}) })
    .where(and(eq(channelIdentities.channel, inbound.channel), eq(channelIdentities.externalId, sender.externalId)))
    .returning({
      id: channelIdentities.id,
      customerId: channelIdentities.customerId,
      provenBy: channelIdentities.provenBy,
      // The identity's open conversation, read in the same round trip. Spelled out with an alias:
      // drizzle writes an UPDATE's columns without their table, and an unqualified "id" inside the
      // subquery is the conversation's own (it matched nothing, reading every conversation).
      openConversationId: sql<string | null>`(select c.id from ${conversations} c where c.channel_identity_id = ${channelIdentities}.id and c.status <> 'closed' limit 1)`,
    });
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
    .returning({ id: channelIdentities.id, customerId: channelIdentities.customerId, provenBy: channelIdentities.provenBy });
  if (!created) throw new Error('identity upsert returned no row');
  // A concurrent first message created the identity first: drop the guest we made for nothing.
  if (resolved.guest && created.customerId !== resolved.id) await tx.delete(customers).where(eq(customers.id, resolved.id));
  return { ...created, openConversationId: null };
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
      replyToken: newReplyToken(),
      createdAt: now,
      updatedAt: now,
      lastMessageAt: now,
    })
    .returning();
  if (!created) throw new Error('conversation insert returned no row');
  return created;
}
