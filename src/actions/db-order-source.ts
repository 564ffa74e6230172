import { type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/client.js';
import { fromJson, rowMapper } from '../db/raw.js';
import { deals, orders } from '../db/schema.js';
import { CouponView, type DealTerms, MerchantView, type OrderSource, type OrderView, PaymentMethod } from './ports.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Normalises what a consumer types: `kf 1234 5678` → `KF12345678`, `abcd efgh jkmn` → `ABCD-EFGH-JKMN`. */
export function normaliseLookup(raw: string): { orderNumber: string; couponCode: string } {
  const compact = raw.toUpperCase().replace(/[\s\-–—_]/g, '');
  const couponCode = /^[A-Z0-9]{12}$/.test(compact) ? `${compact.slice(0, 4)}-${compact.slice(4, 8)}-${compact.slice(8)}` : compact;
  return { orderNumber: compact, couponCode };
}

/**
 * The order lookups' one statement: an order with its deal, its merchant and its
 * coupons (as JSON, one statement per lookup, not two). A consumer asking about an order is on the
 * bot's hot path, and drizzle building this select (forty columns over three joins) and mapping its
 * result was most of the fifth of kefu's CPU that drizzle took in an intake flood; rows come back as
 * JSON and are mapped by the tables' own column mappers (`rowMapper`), as drizzle would.
 */
const merchantJson = sql<unknown>`json_build_object('id', m.id, 'name', m.name, 'address', m.address, 'phone', m.phone, 'status', m.status)`;
const orderFields = {
  order: sql<unknown>`to_json(o)`,
  deal: sql<unknown>`to_json(d)`,
  merchant: merchantJson,
  coupons: sql<unknown>`coalesce((
    select json_agg(json_build_object('id', c.id, 'code', c.code, 'state', c.state, 'usedAt', c.used_at, 'expiresAt', c.expires_at) order by c.code)
    from coupons c where c.order_id = o.id
  ), '[]'::json)`,
};
const ordersJoined = sql`orders o join deals d on d.id = o.deal_id join merchants m on m.id = d.merchant_id`;

const mapOrder = rowMapper(orders);
const mapDeal = rowMapper(deals);
const jsonRow = (v: unknown) => fromJson(v) as Record<string, unknown>;

type OrderRow = { order: typeof orders.$inferSelect; deal: typeof deals.$inferSelect; merchant: DealTerms['merchant']; coupons: unknown };

/** Through `select` (a read: turns try it without a transaction first), with four fields, not forty. */
function selectOrders(db: DbOrTx) {
  return db.select(orderFields).from(ordersJoined);
}

function toOrderRow(r: { order: unknown; deal: unknown; merchant: unknown; coupons: unknown }): OrderRow {
  return { order: mapOrder(jsonRow(r.order)), deal: mapDeal(jsonRow(r.deal)), merchant: MerchantView.parse(jsonRow(r.merchant)), coupons: r.coupons };
}

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
  fromJson,
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

/** The default OrderSource: our own tables (the demo data, or orders synced into them). */
export function createDbOrderSource(): OrderSource {
  return {
    async recentOrders(db, customerId, limit) {
      const rows = await selectOrders(db).where(sql`o.customer_id = ${customerId}`).orderBy(sql`o.created_at desc`).limit(limit);
      return rows.map((r) => toOrderView(toOrderRow(r)));
    },
    async findByNumberOrCode(db, customerId, numberOrCode) {
      const { orderNumber, couponCode } = normaliseLookup(numberOrCode);
      const [row] = await selectOrders(db)
        .where(sql`o.customer_id = ${customerId} and (o.order_number = ${orderNumber} or o.id in (select order_id from coupons where code = ${couponCode}))`)
        .limit(1);
      return row ? toOrderView(toOrderRow(row)) : null;
    },
    async orderWithCoupons(db, customerId, orderId) {
      if (!UUID.test(orderId)) return null;
      const [row] = await selectOrders(db).where(sql`o.id = ${orderId} and o.customer_id = ${customerId}`);
      return row ? toOrderView(toOrderRow(row)) : null;
    },
    async dealTerms(db, dealId) {
      if (!UUID.test(dealId)) return null;
      const [row] = await db
        .select({ deal: sql<unknown>`to_json(d)`, merchant: merchantJson })
        .from(sql`deals d join merchants m on m.id = d.merchant_id`)
        .where(sql`d.id = ${dealId}`);
      return row ? toDealTerms(mapDeal(jsonRow(row.deal)), MerchantView.parse(jsonRow(row.merchant))) : null;
    },
    async mirror(_db, order) {
      // Already local: the view's ids are the rows' ids.
      return { orderId: order.id, merchantId: order.deal.merchant.id, coupons: new Map(order.coupons.map((c) => [c.id, c.id])) };
    },
  };
}
