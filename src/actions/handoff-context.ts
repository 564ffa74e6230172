import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, asc, desc, eq, inArray, ne } from 'drizzle-orm';
import { parse } from 'yaml';
import { z } from 'zod';
import { IdentityLevel } from '../core/identity.js';
import { ChannelKind, Locale } from '../core/message.js';
import type { DbOrTx } from '../db/client.js';
import { dealTermsOf } from './db-order-source.js';
import {
  channelIdentities,
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

const iso = z.string();

/** One coupon as agents see it. */
export const PacketCoupon = z.object({ code: z.string(), state: z.string(), expiresAt: iso, usedAt: iso.nullable() });

/** A recent order with the deal's terms (word for word) and the merchant's standing. */
export const PacketOrder = z.object({
  orderId: z.string(),
  orderNumber: z.string(),
  createdAt: iso,
  quantity: z.number(),
  totalCents: z.number(),
  paymentMethod: z.string(),
  coupons: z.array(PacketCoupon),
  deal: z.object({
    id: z.string(),
    title: z.string(),
    included: z.array(z.object({ item: z.string(), quantity: z.number() })),
    validFrom: z.string(),
    validTo: z.string(),
    weekdays: z.array(z.number()),
    hoursFrom: z.string(),
    hoursTo: z.string(),
    reservationRequired: z.boolean(),
    usageNotes: z.string().nullable(),
    priceCents: z.number(),
    originalPriceCents: z.number(),
    refundAnytime: z.boolean(),
    refundOnExpiry: z.boolean(),
  }),
  merchant: z.object({
    id: z.string(),
    name: z.string(),
    status: z.string(),
    complaintCount: z.number(),
    phone: z.string(),
  }),
});

/** The order-context packet built for agents at handoff (and rebuilt live for the console). */
export const HandoffPacket = z.object({
  version: z.literal(1),
  customer: z.object({
    id: z.string(),
    name: z.string().nullable(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    locale: Locale,
    firstTimeUser: z.boolean(),
    guest: z.boolean(),
    channels: z.array(z.object({ channel: ChannelKind, displayName: z.string().nullable(), unreachable: z.boolean() })),
  }),
  conversationChannel: ChannelKind,
  /** How sure we are of who is writing (the latest customer message): agents must not trust an unproven sender. */
  identityLevel: IdentityLevel.default('anonymous'),
  orders: z.array(PacketOrder),
  refunds: z.array(
    z.object({
      id: z.string(),
      couponCode: z.string(),
      orderNumber: z.string(),
      amountCents: z.number(),
      status: z.string(),
      policy: z.string(),
      reason: z.string().nullable(),
      createdAt: iso,
    }),
  ),
  earlierConversations: z.array(
    z.object({
      id: z.string(),
      channel: ChannelKind,
      status: z.string(),
      createdAt: iso,
      ticketNumber: z.string().nullable(),
      reason: z.string().nullable(),
      resolutionCode: z.string().nullable(),
      satisfaction: z.number().nullable(),
    }),
  ),
  transcript: z.array(z.object({ author: z.string(), direction: z.string(), text: z.string(), at: iso })),
});
export type HandoffPacket = z.infer<typeof HandoffPacket>;

const RECENT_ORDERS = 5;
const TRANSCRIPT_LIMIT = 40;

/** Collects everything an agent needs on one screen about a conversation's customer. */
export async function buildHandoffPacket(db: DbOrTx, conversationId: string): Promise<HandoffPacket> {
  const [conversation] = await db.select().from(conversations).where(eq(conversations.id, conversationId)).limit(1);
  if (!conversation) throw new Error(`conversation ${conversationId} not found`);
  const customerId = conversation.customerId;
  const [[customer], identities, orderRows, refundRows, earlier, transcriptDesc] = await Promise.all([
    db.select().from(customers).where(eq(customers.id, customerId)).limit(1),
    db
      .select({ channel: channelIdentities.channel, displayName: channelIdentities.displayName, unreachable: channelIdentities.unreachable })
      .from(channelIdentities)
      .where(eq(channelIdentities.customerId, customerId))
      .orderBy(asc(channelIdentities.createdAt)),
    db
      .select({ order: orders, deal: deals, merchant: merchants })
      .from(orders)
      .innerJoin(deals, eq(deals.id, orders.dealId))
      .innerJoin(merchants, eq(merchants.id, deals.merchantId))
      .where(eq(orders.customerId, customerId))
      .orderBy(desc(orders.createdAt))
      .limit(RECENT_ORDERS),
    db
      .select({ refund: refunds, couponCode: coupons.code, orderNumber: orders.orderNumber })
      .from(refunds)
      .innerJoin(coupons, eq(coupons.id, refunds.couponId))
      .innerJoin(orders, eq(orders.id, refunds.orderId))
      .where(eq(refunds.customerId, customerId))
      .orderBy(desc(refunds.createdAt))
      .limit(20),
    db
      .select({ conversation: conversations, ticketNumber: handoffs.ticketNumber, reason: handoffs.reason })
      .from(conversations)
      .leftJoin(handoffs, eq(handoffs.conversationId, conversations.id))
      .where(and(eq(conversations.customerId, customerId), ne(conversations.id, conversationId)))
      .orderBy(desc(conversations.createdAt))
      .limit(10),
    db
      .select({ author: messages.author, direction: messages.direction, text: messages.text, createdAt: messages.createdAt })
      .from(messages)
      .where(and(eq(messages.conversationId, conversationId), ne(messages.direction, 'internal')))
      .orderBy(desc(messages.seq))
      .limit(TRANSCRIPT_LIMIT),
  ]);
  if (!customer) throw new Error(`customer ${customerId} not found`);
  const orderIds = orderRows.map((r) => r.order.id);
  const couponRows =
    orderIds.length === 0
      ? []
      : await db.select().from(coupons).where(inArray(coupons.orderId, orderIds)).orderBy(asc(coupons.code));
  return {
    version: 1,
    customer: {
      id: customer.id,
      name: customer.name,
      phone: customer.phone,
      email: customer.email,
      locale: customer.locale,
      firstTimeUser: customer.firstTimeUser,
      guest: customer.guest,
      channels: identities,
    },
    conversationChannel: conversation.channel,
    identityLevel: conversation.identityLevel,
    orders: orderRows.map(({ order, deal, merchant }) => ({
      orderId: order.id,
      orderNumber: order.orderNumber,
      createdAt: order.createdAt.toISOString(),
      quantity: order.quantity,
      totalCents: order.totalCents,
      paymentMethod: order.paymentMethod,
      coupons: couponRows
        .filter((c) => c.orderId === order.id)
        .map((c) => ({ code: c.code, state: c.state, expiresAt: c.expiresAt.toISOString(), usedAt: c.usedAt?.toISOString() ?? null })),
      deal: dealTermsOf(deal),
      merchant: {
        id: merchant.id,
        name: merchant.name,
        status: merchant.status,
        complaintCount: merchant.complaintCount,
        phone: merchant.phone,
      },
    })),
    refunds: refundRows.map((r) => ({
      id: r.refund.id,
      couponCode: r.couponCode,
      orderNumber: r.orderNumber,
      amountCents: r.refund.amountCents,
      status: r.refund.status,
      policy: r.refund.policy,
      reason: r.refund.reason,
      createdAt: r.refund.createdAt.toISOString(),
    })),
    earlierConversations: earlier.map((e) => ({
      id: e.conversation.id,
      channel: e.conversation.channel,
      status: e.conversation.status,
      createdAt: e.conversation.createdAt.toISOString(),
      ticketNumber: e.ticketNumber,
      reason: e.reason,
      resolutionCode: e.conversation.resolutionCode,
      satisfaction: e.conversation.satisfaction,
    })),
    transcript: transcriptDesc
      .reverse()
      .map((m) => ({ author: m.author, direction: m.direction, text: m.text, at: m.createdAt.toISOString() })),
  };
}

const Localized = z.object({ 'zh-Hans': z.string(), 'zh-Hant': z.string(), en: z.string() });
const SummaryTemplates = z.object({
  who: Localized,
  firstTime: Localized,
  asked: Localized,
  order: Localized,
  noOrders: Localized,
  refunds: Localized,
  merchant: Localized,
  unverified: Localized,
});
type SummaryTemplates = z.infer<typeof SummaryTemplates>;

const TEMPLATES: SummaryTemplates = SummaryTemplates.parse(
  parse(readFileSync(join(import.meta.dirname, '../../prompts/handoff-summary.yaml'), 'utf8')),
);

function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, key: string) => (key in values ? String(values[key]) : m));
}

/**
 * The rule-based summary (3–5 lines): who and why, what they last said, the latest order with its
 * coupons, refunds on record, and the merchant when it is not in good standing.
 */
export function ruleBasedSummary(packet: HandoffPacket, reason: string, locale: Locale): string {
  const t = (key: keyof SummaryTemplates) => TEMPLATES[key][locale];
  const lines: string[] = [
    fill(t('who'), {
      name: packet.customer.name ?? '—',
      firstTime: packet.customer.firstTimeUser ? t('firstTime') : '',
      channel: packet.conversationChannel,
      reason,
    }),
  ];
  // First thing an agent reads: the sender is not proven (e.g. only an email From header).
  if (packet.identityLevel !== 'proven') lines.unshift(t('unverified'));
  const lastCustomer = [...packet.transcript].reverse().find((m) => m.author === 'customer');
  if (lastCustomer) {
    const text = lastCustomer.text.replace(/\s+/g, ' ').trim();
    lines.push(fill(t('asked'), { text: text.length > 120 ? `${text.slice(0, 119)}…` : text }));
  }
  const latest = packet.orders[0];
  if (latest) {
    lines.push(
      fill(t('order'), {
        orderNumber: latest.orderNumber,
        deal: latest.deal.title,
        merchant: latest.merchant.name,
        coupons: latest.coupons.map((c) => `${c.code} ${c.state}`).join(', ') || '—',
      }),
    );
  } else {
    lines.push(t('noOrders'));
  }
  if (packet.refunds.length > 0) {
    lines.push(
      fill(t('refunds'), { count: packet.refunds.length, review: packet.refunds.filter((r) => r.status === 'pending_review').length }),
    );
  }
  const troubled = packet.orders.find((o) => o.merchant.status !== 'active' || o.merchant.complaintCount > 0);
  if (troubled && lines.length < 5) {
    lines.push(
      fill(t('merchant'), {
        merchant: troubled.merchant.name,
        status: troubled.merchant.status,
        complaints: troubled.merchant.complaintCount,
      }),
    );
  }
  return lines.slice(0, 5).join('\n');
}

