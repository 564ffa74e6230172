import { z } from 'zod';
import { Locale } from '../core/message.js';
import type { DbOrTx } from '../db/client.js';

/** Coupon states, the same closed set as the database enum. */
export const CouponState = z.enum(['unused', 'used', 'expired', 'refund_pending', 'refunded']);
export type CouponState = z.infer<typeof CouponState>;

export const PaymentMethod = z.enum(['wechat_pay', 'alipay', 'bank_card']);
export type PaymentMethod = z.infer<typeof PaymentMethod>;

/** The merchant selling a deal, as much as a consumer or an agent needs. */
export const MerchantView = z.object({
  id: z.string(),
  name: z.string(),
  address: z.string(),
  phone: z.string(),
  status: z.enum(['active', 'warned', 'suspended']),
});
export type MerchantView = z.infer<typeof MerchantView>;

/** A deal's terms exactly as recorded: what is told to a consumer comes from these fields, word for word. */
export const DealTerms = z.object({
  id: z.string(),
  title: z.string(),
  included: z.array(z.object({ item: z.string(), quantity: z.number().int().positive() })),
  /** China-local calendar dates, `YYYY-MM-DD`. */
  validFrom: z.iso.date(),
  validTo: z.iso.date(),
  /** ISO weekdays, 1 = Monday .. 7 = Sunday. */
  weekdays: z.array(z.number().int().min(1).max(7)),
  hoursFrom: z.string().regex(/^\d{2}:\d{2}$/),
  hoursTo: z.string().regex(/^\d{2}:\d{2}$/),
  reservationRequired: z.boolean(),
  usageNotes: z.string().nullable(),
  priceCents: z.number().int().positive(),
  originalPriceCents: z.number().int().positive(),
  refundAnytime: z.boolean(),
  refundOnExpiry: z.boolean(),
  merchant: MerchantView,
  /** The platform's wording in other languages, where it has one (see DealTranslation). */
  translations: z
    .partialRecord(Locale, z.object({ title: z.string().min(1).optional(), usageNotes: z.string().min(1).optional(), included: z.array(z.string().min(1)).optional() }))
    .optional(),
});
export type DealTerms = z.infer<typeof DealTerms>;

export const CouponView = z.object({
  id: z.string(),
  code: z.string(),
  state: CouponState,
  usedAt: z.date().nullable(),
  expiresAt: z.date(),
});
export type CouponView = z.infer<typeof CouponView>;

/** One order of one customer: the deal it bought and each of its coupons. */
export const OrderView = z.object({
  id: z.string(),
  orderNumber: z.string(),
  customerId: z.string(),
  quantity: z.number().int().positive(),
  unitPriceCents: z.number().int().positive(),
  totalCents: z.number().int().positive(),
  paymentMethod: PaymentMethod,
  createdAt: z.date(),
  deal: DealTerms,
  coupons: z.array(CouponView),
});
export type OrderView = z.infer<typeof OrderView>;

/**
 * Where orders, coupons and deal terms come from: our own tables (the default) or the platform's
 * order API. Every lookup by a customer answers only that customer's own orders.
 * `db` is the turn's transaction; a remote source ignores it for reads.
 */
export interface OrderSource {
  /** The customer's most recent orders, newest first. */
  recentOrders(db: DbOrTx, customerId: string, limit: number): Promise<OrderView[]>;
  /** The customer's own order with this order number or containing this coupon code, else null. */
  findByNumberOrCode(db: DbOrTx, customerId: string, numberOrCode: string): Promise<OrderView | null>;
  /** The customer's own order by id, else null. */
  orderWithCoupons(db: DbOrTx, customerId: string, orderId: string): Promise<OrderView | null>;
  /** A deal's terms (public: no owner check), else null. */
  dealTerms(db: DbOrTx, dealId: string): Promise<DealTerms | null>;
  /**
   * Makes sure the order, its deal, merchant and coupons exist as local rows and answers their
   * local ids, so refunds and complaints can reference and lock them (`refunds.coupon_id` is
   * unique: at most one refund per coupon). The database source answers the ids it already has;
   * a remote source upserts mirror rows.
   */
  mirror(db: DbOrTx, order: OrderView): Promise<LocalIds>;
}

/** Local row ids of an order and what it references; `coupons` maps the view's coupon id to the local one. */
export interface LocalIds {
  orderId: string;
  merchantId: string;
  coupons: ReadonlyMap<string, string>;
}

export const RefundRequest = z.object({
  /** Our refund id: the idempotency key the gateway dedupes on. */
  refundId: z.string(),
  orderId: z.string(),
  orderNumber: z.string(),
  couponId: z.string(),
  couponCode: z.string(),
  customerId: z.string(),
  amountCents: z.number().int().positive(),
  paymentMethod: PaymentMethod,
  reason: z.string().nullable(),
  /** A guarantee-fund compensation rather than a coupon refund (its own idempotency key). */
  purpose: z.enum(['refund', 'compensation']).optional(),
});
export type RefundRequest = z.infer<typeof RefundRequest>;

/**
 * What the payment side answered: `accepted` (money is on its way), `pending` (taken, still
 * processing), `failed` with `rejected` (the platform said no, 4xx), `unreachable` (network, 5xx,
 * timeout) or `invalid_response` (an answer we could not read: whether money moved is unknown).
 */
export const RefundGatewayResult = z.discriminatedUnion('status', [
  z.object({ status: z.literal('accepted'), reference: z.string().nullable() }),
  z.object({ status: z.literal('pending'), reference: z.string().nullable() }),
  z.object({ status: z.literal('failed'), failure: z.enum(['rejected', 'unreachable', 'invalid_response']), message: z.string() }),
]);
export type RefundGatewayResult = z.infer<typeof RefundGatewayResult>;

/** Where a submitted refund stands on the payment side: paid out, still processing, failed, or unknown (unreachable). */
export const RefundPaymentStatus = z.discriminatedUnion('status', [
  z.object({ status: z.literal('paid'), paidAt: z.date().nullable(), reference: z.string().nullable() }),
  z.object({ status: z.literal('pending') }),
  z.object({ status: z.literal('failed'), message: z.string() }),
  z.object({ status: z.literal('unknown'), message: z.string() }),
]);
export type RefundPaymentStatus = z.infer<typeof RefundPaymentStatus>;

/** Pays a refund back to the original payment method. */
export interface RefundGateway {
  submitRefund(request: RefundRequest): Promise<RefundGatewayResult>;
  /** Where the refund with this kefu refund id stands (docs/order-api.md `GET /refunds/{refundId}`); absent = not tracked. */
  refundStatus?(refundId: string): Promise<RefundPaymentStatus>;
}
