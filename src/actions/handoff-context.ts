import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, asc, desc, eq, inArray, ne } from 'drizzle-orm';
import { parse } from 'yaml';
import { z } from 'zod';
import { IdentityLevel } from '../core/identity.js';
import { ChannelKind, Locale } from '../core/message.js';
import type { DbOrTx } from '../db/client.js';
import { complaintWindow, merchantComplaintStats } from '../db/complaint-stats.js';
import { dealTermsOf } from './db-order-source.js';
import {
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

export type PacketOrder = z.infer<typeof PacketOrder>;

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
  transcript: z.array(
    z.object({
      author: z.string(),
      direction: z.string(),
      text: z.string(),
      at: iso,
      /** The quick reply pressed, when the text is a button label rather than the consumer's own words. */
      choice: z.string().nullable().optional(),
    }),
  ),
  /** What this case is about; absent in packets stored before it existed. */
  focus: z.lazy(() => CaseFocus).optional(),
});
export type HandoffPacket = z.infer<typeof HandoffPacket>;

/**
 * What the case is about, decided from the case's own records (its complaint, its refund under
 * review, the callback request) rather than from the customer's latest order or last button.
 */
export const CaseFocus = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('complaint'),
    reference: z.string().nullable(),
    orderNumber: z.string().nullable(),
    merchantName: z.string().nullable(),
    category: z.string(),
    /** The consumer's own description, as typed. */
    description: z.string(),
    occurredAt: z.string().nullable(),
    wantedOutcome: z.string().nullable(),
  }),
  z.object({
    kind: z.literal('refund_review'),
    orderNumber: z.string().nullable(),
    merchantName: z.string().nullable(),
    couponCodes: z.array(z.string()),
    amountCents: z.number().nullable(),
    /** Why a person must decide: count, amount, gateway_failed, or the bot's refusal (no_refund_terms, used, …). */
    why: z.string().nullable(),
  }),
  z.object({
    kind: z.literal('callback'),
    phone: z.string().nullable(),
    /** The guide step the consumer was on when they asked to be called (the bot's words). */
    step: z.string().nullable(),
  }),
  z.object({ kind: z.literal('not_understood'), messages: z.array(z.string()) }),
  z.object({ kind: z.literal('general'), orderNumber: z.string().nullable() }),
]);
export type CaseFocus = z.infer<typeof CaseFocus>;

/** What the handoff itself knows (reason, collected slots, callback number); the console passes its stored handoff. */
export interface HandoffHint {
  reason: string;
  slots: Record<string, unknown>;
  callbackPhone?: string | null;
  /** The end of the window merchant complaint counts cover (default: the conversation's last message). */
  asOf?: Date;
}

const RECENT_ORDERS = 5;
const TRANSCRIPT_LIMIT = 40;

/**
 * Collects everything an agent needs on one screen about a conversation's customer, led by what
 * this case is about (`focus`); the case's order comes first among the orders.
 */
export async function buildHandoffPacket(db: DbOrTx, conversationId: string, hint: HandoffHint | null = null): Promise<HandoffPacket> {
  const [conversation] = await db.select().from(conversations).where(eq(conversations.id, conversationId)).limit(1);
  if (!conversation) throw new Error(`conversation ${conversationId} not found`);
  const customerId = conversation.customerId;
  const [[customer], identities, orderRows, refundRows, earlier, transcriptDesc, [complaint], caseRefunds] = await Promise.all([
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
      .select({ author: messages.author, direction: messages.direction, text: messages.text, choice: messages.choice, createdAt: messages.createdAt })
      .from(messages)
      .where(and(eq(messages.conversationId, conversationId), ne(messages.direction, 'internal')))
      .orderBy(desc(messages.seq))
      .limit(TRANSCRIPT_LIMIT),
    db
      .select({ complaint: complaints, orderNumber: orders.orderNumber, merchantName: merchants.name })
      .from(complaints)
      .leftJoin(orders, eq(orders.id, complaints.orderId))
      .leftJoin(merchants, eq(merchants.id, complaints.merchantId))
      .where(eq(complaints.conversationId, conversationId))
      .orderBy(desc(complaints.createdAt))
      .limit(1),
    db
      .select({ refund: refunds, couponCode: coupons.code, orderNumber: orders.orderNumber, merchantName: merchants.name })
      .from(refunds)
      .innerJoin(coupons, eq(coupons.id, refunds.couponId))
      .innerJoin(orders, eq(orders.id, refunds.orderId))
      .innerJoin(deals, eq(deals.id, orders.dealId))
      .innerJoin(merchants, eq(merchants.id, deals.merchantId))
      .where(and(eq(refunds.conversationId, conversationId), eq(refunds.status, 'pending_review')))
      .orderBy(asc(refunds.createdAt)),
  ]);
  if (!customer) throw new Error(`customer ${customerId} not found`);
  const transcript = transcriptDesc
    .reverse()
    .map((m) => ({ author: m.author, direction: m.direction, text: m.text, at: m.createdAt.toISOString(), choice: m.choice }));
  const focus = decideFocus(hint, complaint ?? null, caseRefunds, transcript);
  const caseOrder = focusOrderNumber(focus);
  // The case's order leads, also when it is older than the latest few.
  if (caseOrder !== null && !orderRows.some((r) => r.order.orderNumber === caseOrder)) {
    const [extra] = await db
      .select({ order: orders, deal: deals, merchant: merchants })
      .from(orders)
      .innerJoin(deals, eq(deals.id, orders.dealId))
      .innerJoin(merchants, eq(merchants.id, deals.merchantId))
      .where(and(eq(orders.customerId, customerId), eq(orders.orderNumber, caseOrder)))
      .limit(1);
    if (extra) orderRows.unshift(extra);
  }
  orderRows.sort((a, b) => Number(b.order.orderNumber === caseOrder) - Number(a.order.orderNumber === caseOrder));
  const orderIds = orderRows.map((r) => r.order.id);
  const [couponRows, complaintStats] = await Promise.all([
    orderIds.length === 0 ? Promise.resolve([]) : db.select().from(coupons).where(inArray(coupons.orderId, orderIds)).orderBy(asc(coupons.code)),
    merchantComplaintStats(db, complaintWindow(hint?.asOf ?? conversation.lastMessageAt), [...new Set(orderRows.map((r) => r.merchant.id))]),
  ]);
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
        // The same definition as the dashboard's: complaints in the last COMPLAINT_WINDOW_DAYS days.
        complaintCount: complaintStats.find((m) => m.id === merchant.id)?.complaints ?? 0,
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
    transcript,
    focus,
  };
}

type TranscriptLine = HandoffPacket['transcript'][number];

/** A string found at a dotted path of the slots, if any (slots are the flow's untyped bag). */
function slotText(slots: Record<string, unknown>, path: string): string | null {
  let value: unknown = slots;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
    value = Object.entries(value).find(([k]) => k === key)?.[1];
  }
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number') return String(value);
  return null;
}

function slotTexts(slots: Record<string, unknown>, key: string): string[] {
  const value = slots[key];
  if (typeof value === 'string' && value.trim() !== '') return [value.trim()];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.trim() !== '');
  return [];
}

/** Messages the consumer typed themselves (a pressed button's label is not their words). */
export function ownWords(transcript: readonly TranscriptLine[]): TranscriptLine[] {
  return transcript.filter((m) => m.author === 'customer' && (m.choice === null || m.choice === undefined) && m.text.trim() !== '');
}

const ORDER_NUMBER = /^KF\d{8}$/;

function decideFocus(
  hint: HandoffHint | null,
  complaint: { complaint: typeof complaints.$inferSelect; orderNumber: string | null; merchantName: string | null } | null,
  caseRefunds: { refund: typeof refunds.$inferSelect; couponCode: string; orderNumber: string; merchantName: string }[],
  transcript: readonly TranscriptLine[],
): CaseFocus {
  const slots = hint?.slots ?? {};
  const reason = hint?.reason ?? null;
  if (complaint) {
    const c = complaint.complaint;
    return {
      kind: 'complaint',
      reference: c.ticketNumber,
      orderNumber: complaint.orderNumber,
      merchantName: complaint.merchantName,
      category: c.category,
      description: c.description,
      occurredAt: c.occurredAt,
      wantedOutcome: c.wantedOutcome,
    };
  }
  const orderRef = slotText(slots, 'complaint.order.orderNumber') ?? slotText(slots, 'found.order.orderNumber') ?? slotText(slots, 'orderRef');
  const orderNumber = orderRef !== null && ORDER_NUMBER.test(orderRef) ? orderRef : null;
  const description = slotText(slots, 'description');
  if (reason === 'complaint' || (description !== null && slotText(slots, 'category') !== null)) {
    return {
      kind: 'complaint',
      reference: slotText(slots, 'complaint.ticketNumber'),
      orderNumber,
      merchantName: slotText(slots, 'complaint.merchantName') ?? slotText(slots, 'found.order.merchantName') ?? slotText(slots, 'shopName'),
      category: slotText(slots, 'category') ?? 'other',
      description: description ?? ownWords(transcript).at(-1)?.text ?? '',
      occurredAt: slotText(slots, 'occurredAt'),
      wantedOutcome: slotText(slots, 'wantedOutcome'),
    };
  }
  if (caseRefunds.length > 0) {
    const first = caseRefunds[0]!;
    return {
      kind: 'refund_review',
      orderNumber: first.orderNumber,
      merchantName: first.merchantName,
      couponCodes: caseRefunds.map((r) => r.couponCode),
      amountCents: caseRefunds.reduce((sum, r) => sum + r.refund.amountCents, 0),
      why: first.refund.policy.startsWith('review:') ? first.refund.policy.slice('review:'.length) : first.refund.policy,
    };
  }
  if (reason === 'refund_review' || reason === 'refund_exception') {
    const amount = slotText(slots, 'check.amount.cents');
    return {
      kind: 'refund_review',
      orderNumber,
      merchantName: slotText(slots, 'found.order.merchantName'),
      couponCodes: slotTexts(slots, 'coupon'),
      amountCents: amount === null ? null : Number(amount),
      why: slotText(slots, 'check.reviewReason') ?? slotText(slots, 'done.reviewReason') ?? slotText(slots, 'check.reason'),
    };
  }
  if (reason === 'callback_requested' || (hint?.callbackPhone ?? null) !== null) {
    return { kind: 'callback', phone: hint?.callbackPhone ?? null, step: failedStep(transcript) };
  }
  if (reason === 'not_understood') {
    return { kind: 'not_understood', messages: ownWords(transcript).slice(-3).map((m) => m.text) };
  }
  return { kind: 'general', orderNumber };
}

/** The bot's step the consumer answered with "No" or "Call me": the guide step that did not work. */
function failedStep(transcript: readonly TranscriptLine[]): string | null {
  for (let i = transcript.length - 1; i > 0; i--) {
    const m = transcript[i]!;
    if (m.author !== 'customer' || (m.choice !== 'no' && m.choice !== 'call_me')) continue;
    const before = transcript.slice(0, i).reverse().find((b) => b.author === 'bot');
    if (before) return before.text;
  }
  return null;
}

/** The order number a case is about, if it is about one. */
export function focusOrderNumber(focus: CaseFocus | undefined): string | null {
  if (!focus) return null;
  switch (focus.kind) {
    case 'complaint':
    case 'refund_review':
    case 'general':
      return focus.orderNumber;
    case 'callback':
    case 'not_understood':
      return null;
  }
}

const Localized = z.object({ 'zh-Hans': z.string(), 'zh-Hant': z.string(), en: z.string() });
const Words = z.record(z.string(), Localized);
const SummaryTemplates = z.object({
  who: Localized,
  firstTime: Localized,
  asked: Localized,
  complaint: Localized,
  complaintWants: Localized,
  refundReview: Localized,
  callback: Localized,
  notUnderstood: Localized,
  quote: Localized,
  order: Localized,
  otherOrders: Localized,
  noOrders: Localized,
  refunds: Localized,
  merchant: Localized,
  unknown: Localized,
  words: z.object({ channel: Words, reason: Words, category: Words, outcome: Words, couponState: Words, merchantStatus: Words, why: Words }),
  unverified: Localized,
});
type SummaryTemplates = z.infer<typeof SummaryTemplates>;
type Line = Exclude<keyof SummaryTemplates, 'words'>;
export type WordSet = keyof SummaryTemplates['words'];

const TEMPLATES: SummaryTemplates = SummaryTemplates.parse(
  parse(readFileSync(join(import.meta.dirname, '../../prompts/handoff-summary.yaml'), 'utf8')),
);

function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, key: string) => (key in values ? String(values[key]) : m));
}

/** A closed value (category, outcome, coupon state, …) in words; unknown values stay as they are. */
export function summaryWord(set: WordSet, value: string, locale: Locale): string {
  return TEMPLATES.words[set][value]?.[locale] ?? value;
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * The lines saying what the case is about, from its own records: for a complaint its order,
 * merchant, category and the consumer's description and wanted outcome; for a refund review the
 * coupons, amount and why; for a callback the number and the step that failed; for "not
 * understood" the messages. Quotes only what the consumer typed, never a button label.
 */
export function caseLines(packet: HandoffPacket, locale: Locale): string[] {
  const t = (key: Line) => TEMPLATES[key][locale];
  const unknown = t('unknown');
  const focus = packet.focus;
  const said = ownWords(packet.transcript).at(-1)?.text ?? null;
  const asked = (text: string) => fill(t('asked'), { text: clip(text, 160) });
  if (!focus) return said ? [asked(said)] : [];
  switch (focus.kind) {
    case 'complaint': {
      const lines = [
        fill(t('complaint'), {
          reference: focus.reference ?? '—',
          orderNumber: focus.orderNumber ?? '—',
          merchant: focus.merchantName ?? unknown,
          category: summaryWord('category', focus.category, locale),
        }),
      ];
      if (focus.description) lines.push(asked(focus.description));
      lines.push(
        fill(t('complaintWants'), {
          outcome: focus.wantedOutcome ? summaryWord('outcome', focus.wantedOutcome, locale) : unknown,
          when: focus.occurredAt ? clip(focus.occurredAt, 60) : unknown,
        }),
      );
      return lines;
    }
    case 'refund_review':
      return [
        fill(t('refundReview'), {
          orderNumber: focus.orderNumber ?? '—',
          merchant: focus.merchantName ?? unknown,
          coupons: focus.couponCodes.join(', ') || '—',
          amount: focus.amountCents === null ? unknown : `¥${(focus.amountCents / 100).toFixed(2)}`,
          why: focus.why ? summaryWord('why', focus.why, locale) : unknown,
        }),
        ...(said ? [asked(said)] : []),
      ];
    case 'callback':
      return [fill(t('callback'), { phone: focus.phone ?? unknown, step: focus.step ? clip(focus.step, 100) : unknown })];
    case 'not_understood':
      return [
        fill(t('notUnderstood'), {
          messages: focus.messages.map((m) => fill(t('quote'), { text: clip(m, 80) })).join(' / ') || unknown,
        }),
      ];
    case 'general':
      return said ? [asked(said)] : [];
  }
}

/**
 * The rule-based summary: who and why, then what the case is about (`caseLines`), then — clearly
 * secondary — other orders, refunds on record and a merchant not in good standing.
 */
export function ruleBasedSummary(packet: HandoffPacket, reason: string, locale: Locale): string {
  const t = (key: Line) => TEMPLATES[key][locale];
  const lines: string[] = [
    fill(t('who'), {
      name: packet.customer.name ?? '—',
      firstTime: packet.customer.firstTimeUser ? t('firstTime') : '',
      channel: summaryWord('channel', packet.conversationChannel, locale),
      reason: summaryWord('reason', reason, locale),
    }),
    ...caseLines(packet, locale),
  ];
  // First thing an agent reads: the sender is not proven (e.g. only an email From header).
  if (packet.identityLevel !== 'proven') lines.unshift(t('unverified'));
  const caseOrder = focusOrderNumber(packet.focus);
  const coupons = (o: PacketOrder) => o.coupons.map((c) => `${c.code} ${summaryWord('couponState', c.state, locale)}`).join(', ') || '—';
  if (caseOrder === null) {
    const latest = packet.orders[0];
    lines.push(
      latest
        ? fill(t('order'), { orderNumber: latest.orderNumber, deal: latest.deal.title, merchant: latest.merchant.name, coupons: coupons(latest) })
        : t('noOrders'),
    );
  } else {
    const others = packet.orders.filter((o) => o.orderNumber !== caseOrder).slice(0, 2);
    if (others.length > 0) {
      const list = others.map((o) => `${o.orderNumber} ${o.merchant.name} · ${[...new Set(o.coupons.map((c) => summaryWord('couponState', c.state, locale)))].join('/')}`);
      lines.push(fill(t('otherOrders'), { orders: list.join('; ') }));
    }
  }
  if (packet.refunds.length > 0) {
    lines.push(
      fill(t('refunds'), { count: packet.refunds.length, review: packet.refunds.filter((r) => r.status === 'pending_review').length }),
    );
  }
  const caseMerchant = packet.orders.find((o) => o.orderNumber === caseOrder)?.merchant;
  const troubled = caseMerchant ?? packet.orders.find((o) => o.merchant.status !== 'active')?.merchant;
  if (troubled && (troubled.status !== 'active' || troubled.complaintCount > 0)) {
    lines.push(
      fill(t('merchant'), {
        merchant: troubled.name,
        status: summaryWord('merchantStatus', troubled.status, locale),
        complaints: troubled.complaintCount,
      }),
    );
  }
  return lines.slice(0, 7).join('\n');
}
