import { and, desc, eq, inArray, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/client.js';
import { coupons, deals, merchants, orders } from '../db/schema.js';
import { CouponView, type DealTerms, type OrderSource, type OrderView, PaymentMethod } from './ports.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Normalises what a consumer types: `kf 1234 5678` → `KF12345678`, `abcd efgh jkmn` → `ABCD-EFGH-JKMN`. */
export function normaliseLookup(raw: string): { orderNumber: string; couponCode: string } {
  const compact = raw.toUpperCase().replace(/[\s\-–—_]/g, '');
  const couponCode = /^[A-Z0-9]{12}$/.test(compact) ? `${compact.slice(0, 4)}-${compact.slice(4, 8)}-${compact.slice(8)}` : compact;
  return { orderNumber: compact, couponCode };
}

/**
 * An order's coupons come with its row, as JSON (one statement per lookup, not two): a consumer
 * asking about an order is on the bot's hot path.
 */
const orderCoupons = sql<unknown>`coalesce((
  select json_agg(json_build_object('id', c.id, 'code', c.code, 'state', c.state, 'usedAt', c.used_at, 'expiresAt', c.expires_at) order by c.code)
  from ${coupons} c where c.order_id = ${orders.id}
), '[]'::json)`;

const orderColumns = {
  order: orders,
  deal: deals,
  merchant: { id: merchants.id, name: merchants.name, address: merchants.address, phone: merchants.phone, status: merchants.status },
  coupons: orderCoupons,
};

type OrderRow = { order: typeof orders.$inferSelect; deal: typeof deals.$inferSelect; merchant: DealTerms['merchant']; coupons: unknown };

/** A deal's terms as consumers are told them, word for word from the record. */
export function dealTermsOf(deal: typeof deals.$inferSelect): Omit<DealTerms, 'merchant'> {
  return {
    id: deal.id,
    title: deal.title,
    included: deal.included,
    validFrom: deal.validFrom,
    validTo: deal.validTo,
    weekdays: deal.weekdays,
    hoursFrom: deal.hoursFrom,
    hoursTo: deal.hoursTo,
    reservationRequired: deal.reservationRequired,
    usageNotes: deal.usageNotes,
    priceCents: deal.priceCents,
    originalPriceCents: deal.originalPriceCents,
    refundAnytime: deal.refundAnytime,
    refundOnExpiry: deal.refundOnExpiry,
    ...(Object.keys(deal.translations).length > 0 ? { translations: deal.translations } : {}),
  };
}

function toDealTerms(deal: typeof deals.$inferSelect, merchant: DealTerms['merchant']): DealTerms {
  return { ...dealTermsOf(deal), merchant };
}

/** The coupons' JSON as the driver returns it (parsed or text; timestamps as text). */
const CouponsJson = z.preprocess(
  (v) => (typeof v === 'string' ? JSON.parse(v) : v),
  z.array(CouponView.extend({ usedAt: z.coerce.date().nullable(), expiresAt: z.coerce.date() })),
);

function toOrderView({ order, deal, merchant, coupons: couponsJson }: OrderRow): OrderView {
  return {
    id: order.id,
    orderNumber: order.orderNumber,
    customerId: order.customerId,
    quantity: order.quantity,
    unitPriceCents: order.unitPriceCents,
    totalCents: order.totalCents,
    // Our own rows were written by us: an unknown method is a bug worth failing loudly on.
    paymentMethod: PaymentMethod.parse(order.paymentMethod),
    createdAt: order.createdAt,
    deal: toDealTerms(deal, merchant),
    coupons: CouponsJson.parse(couponsJson),
  };
}

function selectOrders(db: DbOrTx) {
  return db
    .select(orderColumns)
    .from(orders)
    .innerJoin(deals, eq(deals.id, orders.dealId))
    .innerJoin(merchants, eq(merchants.id, deals.merchantId));
}

/** The default OrderSource: our own tables (the demo data, or orders synced into them). */
export function createDbOrderSource(): OrderSource {
  return {
    async recentOrders(db, customerId, limit) {
      const rows = await selectOrders(db).where(eq(orders.customerId, customerId)).orderBy(desc(orders.createdAt)).limit(limit);
      return rows.map(toOrderView);
    },
    async findByNumberOrCode(db, customerId, numberOrCode) {
      const { orderNumber, couponCode } = normaliseLookup(numberOrCode);
      const byCode = db.select({ orderId: coupons.orderId }).from(coupons).where(eq(coupons.code, couponCode));
      const rows = await selectOrders(db)
        .where(and(eq(orders.customerId, customerId), or(eq(orders.orderNumber, orderNumber), inArray(orders.id, byCode))))
        .limit(1);
      return rows[0] ? toOrderView(rows[0]) : null;
    },
    async orderWithCoupons(db, customerId, orderId) {
      if (!UUID.test(orderId)) return null;
      const rows = await selectOrders(db).where(and(eq(orders.id, orderId), eq(orders.customerId, customerId)));
      return rows[0] ? toOrderView(rows[0]) : null;
    },
    async dealTerms(db, dealId) {
      if (!UUID.test(dealId)) return null;
      const [row] = await db
        .select({ deal: deals, merchant: orderColumns.merchant })
        .from(deals)
        .innerJoin(merchants, eq(merchants.id, deals.merchantId))
        .where(eq(deals.id, dealId));
      return row ? toDealTerms(row.deal, row.merchant) : null;
    },
    async mirror(_db, order) {
      // Already local: the view's ids are the rows' ids.
      return { orderId: order.id, merchantId: order.deal.merchant.id, coupons: new Map(order.coupons.map((c) => [c.id, c.id])) };
    },
  };
}
