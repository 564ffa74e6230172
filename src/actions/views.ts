import { cnDate, money } from './money.js';
import type { Locale } from '../core/message.js';
import type { CouponState, CouponView, DealTerms, OrderView } from './ports.js';

/**
 * The deal in the conversation's language where the platform wrote it in that language (title,
 * usage notes, included items); every field it lacks stays in the original words.
 */
export function localizedDeal<D extends Pick<DealTerms, 'title' | 'included' | 'usageNotes' | 'translations'>>(d: D, locale: Locale | undefined): D {
  const t = locale ? d.translations?.[locale] : undefined;
  if (!t) return d;
  return {
    ...d,
    title: t.title ?? d.title,
    usageNotes: t.usageNotes ?? d.usageNotes,
    included: d.included.map((i, n) => ({ ...i, item: t.included?.[n] ?? i.item })),
  };
}

/** How many coupons of an order are in each state; flows word it per locale. */
export type CouponSummary = Record<CouponState, number> & { total: number };

export function couponSummary(coupons: readonly CouponView[]): CouponSummary {
  const summary: CouponSummary = { total: coupons.length, unused: 0, used: 0, expired: 0, refund_pending: 0, refunded: 0 };
  for (const c of coupons) summary[c.state] += 1;
  return summary;
}

/** One coupon as the bot shows it. */
export function couponData(c: CouponView) {
  return {
    id: c.id,
    code: c.code,
    state: c.state,
    usedAt: c.usedAt?.toISOString() ?? null,
    usedOn: c.usedAt ? cnDate(c.usedAt) : null,
    expiresAt: c.expiresAt.toISOString(),
    expiresOn: cnDate(c.expiresAt),
  };
}

/** An order as a list item (quick replies) and as a heading for refund and complaint answers. */
export function orderItem(o: OrderView, locale?: Locale) {
  const deal = localizedDeal(o.deal, locale);
  return {
    id: o.id,
    orderNumber: o.orderNumber,
    title: deal.title,
    merchantName: o.deal.merchant.name,
    /** A label for a quick reply: title (in the conversation's language where the deal has it), order number and purchase date. */
    label: `${deal.title} · ${o.orderNumber} · ${cnDate(o.createdAt)}`,
    orderedOn: cnDate(o.createdAt),
    quantity: o.quantity,
    total: money(o.totalCents),
    unitPrice: money(o.unitPriceCents),
    paymentMethod: o.paymentMethod,
    couponSummary: couponSummary(o.coupons),
  };
}

/** An order with each coupon. */
export function orderDetail(o: OrderView, locale?: Locale) {
  return { ...orderItem(o, locale), dealId: o.deal.id, coupons: o.coupons.map(couponData) };
}

/** Which refund terms a deal has, as one closed value. */
export type RefundTerms = 'refund_anytime_and_on_expiry' | 'refund_anytime' | 'refund_on_expiry' | 'no_refund';

export function refundTerms(d: Pick<DealTerms, 'refundAnytime' | 'refundOnExpiry'>): RefundTerms {
  if (d.refundAnytime && d.refundOnExpiry) return 'refund_anytime_and_on_expiry';
  if (d.refundAnytime) return 'refund_anytime';
  if (d.refundOnExpiry) return 'refund_on_expiry';
  return 'no_refund';
}

/** A deal's terms word for word from the deal record, plus the merchant a consumer must find. */
export function dealData(original: DealTerms, locale?: Locale) {
  const d = localizedDeal(original, locale);
  return {
    id: d.id,
    title: d.title,
    included: d.included.map((i) => ({ item: i.item, quantity: i.quantity })),
    validFrom: d.validFrom,
    validTo: d.validTo,
    weekdays: [...d.weekdays],
    everyDay: d.weekdays.length === 7,
    hoursFrom: d.hoursFrom,
    hoursTo: d.hoursTo,
    reservationRequired: d.reservationRequired,
    usageNotes: d.usageNotes,
    price: money(d.priceCents),
    originalPrice: money(d.originalPriceCents),
    refundAnytime: d.refundAnytime,
    refundOnExpiry: d.refundOnExpiry,
    refundTerms: refundTerms(d),
    merchantName: d.merchant.name,
    merchantAddress: d.merchant.address,
    merchantPhone: d.merchant.phone,
  };
}
