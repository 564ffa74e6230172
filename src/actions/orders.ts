import { z } from 'zod';
import type { DbOrTx } from '../db/client.js';
import type { OrderSource, OrderView } from './ports.js';
import type { ActionDef } from './registry.js';
import { dealData, orderDetail, orderItem } from './views.js';

/** An order reference a flow may hold: the order's id (from a quick reply), its number, or a coupon code typed by the consumer. */
export const OrderRef = z.string().trim().min(1).max(100);

/** Flows render absent optional slots as undefined, null or ''; all three mean "not given". */
export function optionalSlot<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === null || v === '' ? undefined : v), schema.optional());
}

/** Finds the customer's own order by id, order number or coupon code; never someone else's. */
export async function resolveOrder(source: OrderSource, db: DbOrTx, customerId: string, ref: string): Promise<OrderView | null> {
  return (await source.orderWithCoupons(db, customerId, ref)) ?? (await source.findByNumberOrCode(db, customerId, ref));
}

export const OrdersRecentInput = z.object({ limit: z.coerce.number().int().min(1).max(10).default(5) });
export type OrdersRecentInput = z.infer<typeof OrdersRecentInput>;

/** `orders.recent`: the consumer's recent orders with their coupons' states, for a pick list. */
export function ordersRecent(source: OrderSource): ActionDef<OrdersRecentInput, 'found' | 'none'> {
  return {
    name: 'orders.recent',
    account: true,
    input: OrdersRecentInput,
    outcomes: ['found', 'none'],
    async run(ctx, input) {
      const rows = await source.recentOrders(ctx.tx, ctx.customerId, input.limit);
      if (rows.length === 0) return { outcome: 'none', data: { orders: [], count: 0 } };
      return { outcome: 'found', data: { orders: rows.map((o) => orderDetail(o, ctx.locale)), count: rows.length } };
    },
  };
}

export const OrdersFindInput = z.object({ query: OrderRef });
export type OrdersFindInput = z.infer<typeof OrdersFindInput>;

/** `orders.find`: one of the consumer's own orders by order number or coupon code. */
export function ordersFind(source: OrderSource): ActionDef<OrdersFindInput, 'found' | 'not_found'> {
  return {
    name: 'orders.find',
    account: true,
    input: OrdersFindInput,
    outcomes: ['found', 'not_found'],
    async run(ctx, input) {
      const order = await source.findByNumberOrCode(ctx.tx, ctx.customerId, input.query);
      if (!order) return { outcome: 'not_found', data: { query: input.query } };
      return { outcome: 'found', data: { order: orderDetail(order, ctx.locale), deal: dealData(order.deal, ctx.locale) } };
    },
  };
}

export const DealTermsInput = z
  .object({ dealId: optionalSlot(z.string().trim().min(1).max(100)), order: optionalSlot(OrderRef) })
  .refine((v) => v.dealId !== undefined || v.order !== undefined, { message: 'dealId or order is required' });
export type DealTermsInput = z.infer<typeof DealTermsInput>;

/** `deal.terms`: what a deal includes, when and how it can be used, and its refund terms, word for word. */
export function dealTerms(source: OrderSource): ActionDef<DealTermsInput, 'found' | 'not_found'> {
  return {
    name: 'deal.terms',
    account: true,
    input: DealTermsInput,
    outcomes: ['found', 'not_found'],
    async run(ctx, input) {
      if (input.order !== undefined) {
        const order = await resolveOrder(source, ctx.tx, ctx.customerId, input.order);
        if (!order) return { outcome: 'not_found', data: {} };
        return { outcome: 'found', data: { deal: dealData(order.deal, ctx.locale), order: orderItem(order, ctx.locale) } };
      }
      const deal = input.dealId === undefined ? null : await source.dealTerms(ctx.tx, input.dealId);
      if (!deal) return { outcome: 'not_found', data: {} };
      return { outcome: 'found', data: { deal: dealData(deal, ctx.locale) } };
    },
  };
}
