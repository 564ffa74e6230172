import { and, asc, desc, eq, ilike, inArray, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import {
  auditLog,
  channelIdentities,
  complaints,
  conversations,
  coupons,
  customers,
  deals,
  handoffs,
  merchants,
  messages,
  orders,
  refunds,
} from '../db/schema.js';
import { writeReplies } from '../inbox/write-replies.js';
import { randomBytes } from 'node:crypto';
import type { Actor } from './cases.js';

const escapeLike = (term: string) => term.replace(/[%_\\]/g, (m) => `\\${m}`);

/** Everything the one search box finds, grouped by kind. */
export interface SearchResults {
  q: string;
  customers: { id: string; name: string | null; phone: string | null; email: string | null; channels: string[] }[];
  orders: { orderNumber: string; customerId: string; customerName: string | null; dealTitle: string; merchantName: string; createdAt: Date }[];
  coupons: { code: string; state: string; orderNumber: string; customerId: string; customerName: string | null }[];
  complaints: { ticketNumber: string; customerId: string; customerName: string | null; category: string; status: string; conversationId: string | null; createdAt: Date }[];
  tickets: { ticketNumber: string; conversationId: string; customerId: string; customerName: string | null; reason: string; createdAt: Date }[];
  conversations: { id: string; customerId: string; customerName: string | null; channel: string; status: string; lastMessageAt: Date; snippet: string | null }[];
}

/**
 * One search over customers (name, phone, email, channel identity), orders, coupon codes,
 * complaint and ticket numbers, and conversations (bot-only ones too, also by what was written).
 * References are matched exactly (case-insensitively); names and texts by substring.
 */
export async function searchEverything(db: Db, raw: string, limit = 20): Promise<SearchResults> {
  const q = raw.trim();
  const empty: SearchResults = { q, customers: [], orders: [], coupons: [], complaints: [], tickets: [], conversations: [] };
  if (q.length < 2) return empty;
  const like = `%${escapeLike(q)}%`;
  const upper = q.toUpperCase();
  const digits = q.replace(/[\s-]/g, '');
  const phoneMatch = /^\+?\d{4,}$/.test(digits) ? or(eq(customers.phone, digits), ilike(customers.phone, `%${escapeLike(digits)}`)) : undefined;
  const identityOwners = db
    .select({ id: channelIdentities.customerId })
    .from(channelIdentities)
    .where(or(eq(channelIdentities.externalId, q), ilike(channelIdentities.displayName, like), ilike(channelIdentities.externalId, like)));
  const [customerRows, orderRows, couponRows, complaintRows, ticketRows, textHits] = await Promise.all([
    db
      .select({ id: customers.id, name: customers.name, phone: customers.phone, email: customers.email })
      .from(customers)
      .where(or(ilike(customers.name, like), phoneMatch, ilike(customers.email, like), inArray(customers.id, identityOwners)))
      .orderBy(asc(customers.name))
      .limit(limit),
    db
      .select({ orderNumber: orders.orderNumber, customerId: orders.customerId, customerName: customers.name, dealTitle: deals.title, merchantName: merchants.name, createdAt: orders.createdAt })
      .from(orders)
      .innerJoin(customers, eq(customers.id, orders.customerId))
      .innerJoin(deals, eq(deals.id, orders.dealId))
      .innerJoin(merchants, eq(merchants.id, deals.merchantId))
      .where(eq(orders.orderNumber, upper))
      .limit(limit),
    db
      .select({ code: coupons.code, state: coupons.state, orderNumber: orders.orderNumber, customerId: orders.customerId, customerName: customers.name })
      .from(coupons)
      .innerJoin(orders, eq(orders.id, coupons.orderId))
      .innerJoin(customers, eq(customers.id, orders.customerId))
      .where(eq(coupons.code, upper))
      .limit(limit),
    db
      .select({
        ticketNumber: complaints.ticketNumber,
        customerId: complaints.customerId,
        customerName: customers.name,
        category: complaints.category,
        status: complaints.status,
        conversationId: complaints.conversationId,
        createdAt: complaints.createdAt,
      })
      .from(complaints)
      .innerJoin(customers, eq(customers.id, complaints.customerId))
      .where(eq(complaints.ticketNumber, upper))
      .limit(limit),
    db
      .select({
        ticketNumber: handoffs.ticketNumber,
        conversationId: handoffs.conversationId,
        customerId: conversations.customerId,
        customerName: customers.name,
        reason: handoffs.reason,
        createdAt: handoffs.createdAt,
      })
      .from(handoffs)
      .innerJoin(conversations, eq(conversations.id, handoffs.conversationId))
      .innerJoin(customers, eq(customers.id, conversations.customerId))
      .where(eq(handoffs.ticketNumber, upper))
      .limit(limit),
    // Conversations by what was written in them: only for words long enough to mean something.
    q.length >= 3
      ? db
          .selectDistinctOn([messages.conversationId], { conversationId: messages.conversationId, text: messages.text })
          .from(messages)
          .where(and(ilike(messages.text, like), sql`${messages.direction} <> 'internal'`))
          .orderBy(messages.conversationId, desc(messages.seq))
          .limit(limit)
      : Promise.resolve([]),
  ]);
  const customerIds = [...new Set([...customerRows.map((c) => c.id), ...orderRows.map((o) => o.customerId), ...couponRows.map((c) => c.customerId)])];
  const conversationIds = [...new Set([...complaintRows.flatMap((c) => (c.conversationId ? [c.conversationId] : [])), ...ticketRows.map((t) => t.conversationId), ...textHits.map((h) => h.conversationId)])];
  const [channelRows, conversationRows] = await Promise.all([
    customerRows.length === 0
      ? Promise.resolve([])
      : db
          .select({ customerId: channelIdentities.customerId, channel: channelIdentities.channel })
          .from(channelIdentities)
          .where(inArray(channelIdentities.customerId, customerRows.map((c) => c.id))),
    customerIds.length === 0 && conversationIds.length === 0
      ? Promise.resolve([])
      : db
          .select({ id: conversations.id, customerId: conversations.customerId, customerName: customers.name, channel: conversations.channel, status: conversations.status, lastMessageAt: conversations.lastMessageAt })
          .from(conversations)
          .innerJoin(customers, eq(customers.id, conversations.customerId))
          .where(or(customerIds.length > 0 ? inArray(conversations.customerId, customerIds) : undefined, conversationIds.length > 0 ? inArray(conversations.id, conversationIds) : undefined))
          .orderBy(desc(conversations.lastMessageAt))
          .limit(limit),
  ]);
  return {
    q,
    customers: customerRows.map((c) => ({ ...c, channels: [...new Set(channelRows.filter((r) => r.customerId === c.id).map((r) => r.channel))] })),
    orders: orderRows,
    coupons: couponRows,
    complaints: complaintRows,
    tickets: ticketRows,
    conversations: conversationRows.map((c) => ({ ...c, snippet: textHits.find((h) => h.conversationId === c.id)?.text ?? null })),
  };
}

/** Everything about one customer: channels, every conversation, order (with coupons), refund and complaint. */
export async function customerFile(db: Db, customerId: string) {
  const [customer] = await db.select().from(customers).where(eq(customers.id, customerId)).limit(1);
  if (!customer) return null;
  const [channels, conversationRows, orderRows, refundRows, complaintRows] = await Promise.all([
    db.select().from(channelIdentities).where(eq(channelIdentities.customerId, customerId)).orderBy(desc(channelIdentities.lastSeenAt)),
    db
      .select({
        id: conversations.id,
        channel: conversations.channel,
        status: conversations.status,
        createdAt: conversations.createdAt,
        lastMessageAt: conversations.lastMessageAt,
        resolutionCode: conversations.resolutionCode,
      })
      .from(conversations)
      .where(eq(conversations.customerId, customerId))
      .orderBy(desc(conversations.lastMessageAt)),
    db
      .select({ order: orders, dealTitle: deals.title, merchantName: merchants.name })
      .from(orders)
      .innerJoin(deals, eq(deals.id, orders.dealId))
      .innerJoin(merchants, eq(merchants.id, deals.merchantId))
      .where(eq(orders.customerId, customerId))
      .orderBy(desc(orders.createdAt)),
    db
      .select({ refund: refunds, couponCode: coupons.code, orderNumber: orders.orderNumber })
      .from(refunds)
      .innerJoin(coupons, eq(coupons.id, refunds.couponId))
      .innerJoin(orders, eq(orders.id, refunds.orderId))
      .where(eq(refunds.customerId, customerId))
      .orderBy(desc(refunds.createdAt)),
    db
      .select({ complaint: complaints, orderNumber: orders.orderNumber, merchantName: merchants.name })
      .from(complaints)
      .leftJoin(orders, eq(orders.id, complaints.orderId))
      .leftJoin(merchants, eq(merchants.id, complaints.merchantId))
      .where(eq(complaints.customerId, customerId))
      .orderBy(desc(complaints.createdAt)),
  ]);
  const orderIds = orderRows.map((o) => o.order.id);
  const conversationIds = conversationRows.map((c) => c.id);
  const [couponRows, ticketRows, countRows] = await Promise.all([
    orderIds.length === 0 ? Promise.resolve([]) : db.select().from(coupons).where(inArray(coupons.orderId, orderIds)).orderBy(asc(coupons.code)),
    conversationIds.length === 0
      ? Promise.resolve([])
      : db
          .select({ conversationId: handoffs.conversationId, ticketNumber: handoffs.ticketNumber })
          .from(handoffs)
          .where(inArray(handoffs.conversationId, conversationIds))
          .orderBy(desc(handoffs.createdAt)),
    conversationIds.length === 0
      ? Promise.resolve([])
      : db
          .select({ conversationId: messages.conversationId, n: sql<number>`count(*)::int` })
          .from(messages)
          .where(and(inArray(messages.conversationId, conversationIds), sql`${messages.direction} <> 'internal'`))
          .groupBy(messages.conversationId),
  ]);
  return {
    customer,
    channels,
    conversations: conversationRows.map((c) => ({
      ...c,
      ticketNumber: ticketRows.find((t) => t.conversationId === c.id)?.ticketNumber ?? null,
      messageCount: Number(countRows.find((r) => r.conversationId === c.id)?.n ?? 0),
    })),
    orders: orderRows.map((o) => ({ ...o, coupons: couponRows.filter((c) => c.orderId === o.order.id) })),
    refunds: refundRows,
    complaints: complaintRows,
  };
}
export type CustomerFile = NonNullable<Awaited<ReturnType<typeof customerFile>>>;

export const StartConversationRequest = z.object({ text: z.string().trim().min(1).max(8000) }).strict();

/**
 * An agent writes first: a new conversation to the customer on their most recently seen reachable
 * channel, owned by that agent, the message sent through the outbox like any reply.
 */
export async function startConversation(
  db: Db,
  actor: Actor,
  customerId: string,
  text: string,
  now: Date,
): Promise<{ ok: true; conversationId: string; channel: string } | { ok: false; code: 'not_found' | 'conflict'; message: string; conversationId?: string }> {
  return db.transaction(async (tx) => {
    const [customer] = await tx.select({ id: customers.id, locale: customers.locale }).from(customers).where(eq(customers.id, customerId)).limit(1);
    if (!customer) return { ok: false, code: 'not_found', message: 'No such customer' };
    const [identity] = await tx
      .select()
      .from(channelIdentities)
      .where(and(eq(channelIdentities.customerId, customerId), eq(channelIdentities.unreachable, false)))
      .orderBy(desc(channelIdentities.lastSeenAt))
      .limit(1);
    if (!identity) return { ok: false, code: 'conflict', message: 'The customer has no reachable channel' };
    // One open conversation per channel identity: an open case is answered in the case itself;
    // a conversation with only the bot, or one waiting for its rating, is closed first.
    const [open] = await tx
      .select({ id: conversations.id, status: conversations.status })
      .from(conversations)
      .where(and(eq(conversations.channelIdentityId, identity.id), sql`${conversations.status} <> 'closed'`, sql`${conversations.parentConversationId} is null`))
      .for('update');
    if (open && (open.status === 'waiting' || open.status === 'assigned')) {
      return { ok: false, code: 'conflict', message: 'The customer has an open case on that channel; reply there', conversationId: open.id };
    }
    if (open) await tx.update(conversations).set({ status: 'closed', updatedAt: now }).where(eq(conversations.id, open.id));
    const [row] = await tx
      .insert(conversations)
      .values({
        customerId,
        channelIdentityId: identity.id,
        channel: identity.channel,
        status: 'assigned',
        locale: customer.locale,
        replyToken: randomBytes(9).toString('base64url'),
        ownerAgentId: actor.id,
        firstHumanReplyAt: now,
        createdAt: now,
        updatedAt: now,
        lastMessageAt: now,
      })
      .returning({ id: conversations.id, channel: conversations.channel });
    if (!row) throw new Error('conversation insert returned no row');
    await writeReplies(tx, row, [{ author: 'agent', agentId: actor.id, text }], now);
    await tx.insert(auditLog).values({
      actorType: 'agent',
      actorId: actor.id,
      action: 'case.start',
      subjectType: 'conversation',
      subjectId: row.id,
      data: { customerId, channel: row.channel },
      createdAt: now,
    });
    return { ok: true, conversationId: row.id, channel: row.channel };
  });
}
