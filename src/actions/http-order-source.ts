import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import { coupons, deals, merchants, orders } from '../db/schema.js';
import type { OrderApiClient, OrderApiResult } from './order-api-client.js';
import { CouponState, DealTerms, type LocalIds, type OrderSource, type OrderView, PaymentMethod } from './ports.js';

const Instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

/** docs/order-api.md: the JSON the platform answers, validated once here. */
export const RemoteMerchant = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  address: z.string(),
  phone: z.string(),
  status: z.enum(['active', 'warned', 'suspended']).default('active'),
  category: z.string().default(''),
  city: z.string().default(''),
});
/** The platform's deal: our DealTerms, stricter where the platform must not send empty data. */
export const RemoteDeal = DealTerms.extend({
  id: z.string().min(1),
  title: z.string().min(1),
  included: z.array(z.object({ item: z.string().min(1), quantity: z.number().int().positive() })).min(1),
  weekdays: z.array(z.number().int().min(1).max(7)).min(1),
  merchant: RemoteMerchant,
});
export const RemoteCoupon = z.object({
  id: z.string().min(1),
  code: z.string().min(1),
  state: CouponState,
  usedAt: Instant.nullable(),
  expiresAt: Instant,
});
export const RemoteOrder = z.object({
  id: z.string().min(1),
  orderNumber: z.string().min(1),
  customerId: z.string().min(1),
  quantity: z.number().int().positive(),
  unitPriceCents: z.number().int().positive(),
  totalCents: z.number().int().positive(),
  paymentMethod: PaymentMethod,
  createdAt: Instant,
  deal: RemoteDeal,
  coupons: z.array(RemoteCoupon),
});
type RemoteOrder = z.infer<typeof RemoteOrder>;
type RemoteDeal = z.infer<typeof RemoteDeal>;

const OrdersBody = z.object({ orders: z.array(RemoteOrder) });
const OrderBody = z.object({ order: RemoteOrder });
const DealBody = z.object({ deal: RemoteDeal });

/**
 * A stable local UUID for a remote id (name-based, SHA-1, version 5 layout), so a remote order
 * mirrored twice lands on the same rows and `refunds.coupon_id` stays unique per remote coupon.
 */
export function mirrorId(kind: 'merchant' | 'deal' | 'order' | 'coupon', remoteId: string): string {
  const h = createHash('sha1').update(`kefu:order-api:${kind}:${remoteId}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function toDeal(d: RemoteDeal): DealTerms {
  const { category: _c, city: _city, ...merchant } = d.merchant;
  return { ...d, merchant };
}

function toView(o: RemoteOrder): OrderView {
  return { ...o, deal: toDeal(o.deal) };
}

function unwrap<T>(result: OrderApiResult<T>, what: string): T | null {
  switch (result.kind) {
    case 'ok':
      return result.data;
    case 'not_found':
      return null;
    case 'rejected':
      throw new AppError('unavailable', `The order API refused ${what}: ${result.message}`, { reason: 'rejected', status: result.status });
    case 'unreachable':
      throw new AppError('unavailable', `The order API could not be reached for ${what}: ${result.message}`, { reason: 'unreachable' });
    case 'invalid_response':
      throw new AppError('unavailable', `The order API answered ${what} with invalid data: ${result.message}`, { reason: 'invalid_response' });
  }
}

/**
 * OrderSource over the platform's own order API (docs/order-api.md). Reads go to the API; an
 * order is mirrored into our tables only when a refund or complaint needs rows to reference.
 * Remote answers for another customer are treated as not found, whatever the API returned.
 */
export function createHttpOrderSource(client: OrderApiClient): OrderSource {
  const own = (customerId: string, o: RemoteOrder | null): OrderView | null => (o && o.customerId === customerId ? toView(o) : null);
  const path = (customerId: string) => `/customers/${encodeURIComponent(customerId)}/orders`;
  return {
    async recentOrders(_db, customerId, limit) {
      const body = unwrap(await client.request('GET', `${path(customerId)}?limit=${limit}`, OrdersBody), 'recent orders');
      return (body?.orders ?? []).flatMap((o) => own(customerId, o) ?? []).slice(0, limit);
    },
    async findByNumberOrCode(_db, customerId, numberOrCode) {
      const q = encodeURIComponent(numberOrCode.trim());
      const body = unwrap(await client.request('GET', `${path(customerId)}/lookup?q=${q}`, OrderBody), 'an order lookup');
      return own(customerId, body?.order ?? null);
    },
    async orderWithCoupons(_db, customerId, orderId) {
      const body = unwrap(await client.request('GET', `${path(customerId)}/${encodeURIComponent(orderId)}`, OrderBody), 'an order');
      return own(customerId, body?.order ?? null);
    },
    async dealTerms(_db, dealId) {
      const body = unwrap(await client.request('GET', `/deals/${encodeURIComponent(dealId)}`, DealBody), 'deal terms');
      return body ? toDeal(body.deal) : null;
    },
    async mirror(db, order): Promise<LocalIds> {
      const d = order.deal;
      const merchantId = mirrorId('merchant', d.merchant.id);
      const dealId = mirrorId('deal', d.id);
      const orderId = mirrorId('order', order.id);
      // A merchant's status is ours to manage (warnings, suspension): never overwritten.
      await db
        .insert(merchants)
        .values({ id: merchantId, name: d.merchant.name, category: '', city: '', address: d.merchant.address, phone: d.merchant.phone, status: d.merchant.status })
        .onConflictDoNothing({ target: merchants.id });
      const terms = {
        title: d.title,
        included: d.included,
        validFrom: d.validFrom,
        validTo: d.validTo,
        weekdays: d.weekdays,
        hoursFrom: d.hoursFrom,
        hoursTo: d.hoursTo,
        reservationRequired: d.reservationRequired,
        usageNotes: d.usageNotes,
        priceCents: d.priceCents,
        originalPriceCents: d.originalPriceCents,
        refundAnytime: d.refundAnytime,
        refundOnExpiry: d.refundOnExpiry,
        translations: d.translations ?? {},
      };
      await db
        .insert(deals)
        .values({ id: dealId, merchantId, category: '', ...terms })
        .onConflictDoUpdate({ target: deals.id, set: terms });
      await db
        .insert(orders)
        .values({
          id: orderId,
          orderNumber: order.orderNumber,
          customerId: order.customerId,
          dealId,
          quantity: order.quantity,
          unitPriceCents: order.unitPriceCents,
          totalCents: order.totalCents,
          paymentMethod: order.paymentMethod,
          createdAt: order.createdAt,
        })
        .onConflictDoNothing({ target: orders.id });
      const couponIds = new Map(order.coupons.map((c) => [c.id, mirrorId('coupon', c.id)]));
      if (order.coupons.length > 0) {
        // The remote state wins, except over a refund we recorded (the platform may not show it yet).
        await db
          .insert(coupons)
          .values(
            order.coupons.map((c) => ({
              id: mirrorId('coupon', c.id),
              orderId,
              code: c.code,
              state: c.state,
              usedAt: c.usedAt,
              expiresAt: c.expiresAt,
              createdAt: order.createdAt,
            })),
          )
          .onConflictDoUpdate({
            target: coupons.id,
            set: { state: sql`excluded.state`, usedAt: sql`excluded.used_at`, expiresAt: sql`excluded.expires_at` },
            setWhere: sql`${coupons.state} not in ('refund_pending', 'refunded')`,
          });
      }
      return { orderId, merchantId, coupons: couponIds };
    },
  };
}
