/**
 * The domain actions flows call by name. Every action validates its input with zod, answers a
 * closed `outcome` and `data` in plain values (amounts as cents and formatted yuan, China-local
 * dates, codes, titles, merchant names) for the flow's wording files.
 *
 * | action | input | outcomes |
 * |---|---|---|
 * | `orders.recent` | `{limit?}` (default 5, max 10) | `found`, `none` |
 * | `orders.find` | `{query}` order number or coupon code | `found`, `not_found` (also someone else's order) |
 * | `deal.terms` | `{dealId}` or `{order}` (id, number or coupon code) | `found`, `not_found` |
 * | `refund.check` | `{order, coupons?}` coupon ids or codes, default all | `eligible`, `partially_eligible`, `review`, `used`, `no_refund_terms`, `not_expired_yet`, `already_refunded`, `not_found` |
 * | `refund.submit` | `{order, coupons?, reason?}` | `refunded`, `pending_review`, `already_refunded`, `ineligible`, `not_found` |
 * | `refund.status` | `{limit?}` (default 5) | `found`, `none` (the consumer's refunds, one line each) |
 * | `complaint.open` | `{category, order? or merchantId?, description, occurredAt?, wantedOutcome, attachments?}` | `opened`, `not_found` |
 */
import type { Logger } from '../logger.js';
import { complaintOpen, type ComplaintDeps } from './complaints.js';
import { dealTerms, ordersFind, ordersRecent } from './orders.js';
import type { OrderSource, RefundGateway } from './ports.js';
import { DEFAULT_REVIEW_POLICY, type RefundReviewPolicy } from './refund-policy.js';
import { refundCheck, refundSubmit } from './refunds.js';
import { refundStatus } from './refund-status.js';
import { loadProgressMessages } from '../aftersales/progress.js';
import type { ActionDef, ActionRegistry } from './registry.js';

export { ComplaintCategory, ComplaintOpenInput, WantedOutcome } from './complaints.js';
export { DealTermsInput, OrdersFindInput, OrdersRecentInput } from './orders.js';
export { RefundCheckInput, RefundSubmitInput } from './refunds.js';
export type { RefundCheckOutcome, RefundSubmitOutcome, NextStep } from './refunds.js';

/** The names flows may call; fixed. */
export const ACTION_NAMES = ['orders.recent', 'orders.find', 'deal.terms', 'refund.check', 'refund.submit', 'complaint.open', 'refund.status'] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

export interface ActionDeps {
  /** Orders, coupons and deal terms: `createDbOrderSource()` or `createHttpOrderSource(...)`. */
  orders: OrderSource;
  /** Pays refunds: `createDbRefundGateway()` or `createHttpRefundGateway(...)`. */
  refunds: RefundGateway;
  /** Refund review thresholds (config REFUND_REVIEW_*). */
  review?: RefundReviewPolicy;
  logger: Logger;
  /** After-sales hook run in the transaction that opened a complaint (merchant notice). */
  complaintOpened?: ComplaintDeps['onOpened'];
}

/** Builds the registry of domain actions over the given ports. */
export function createActionRegistry(deps: ActionDeps): ActionRegistry {
  const review = deps.review ?? DEFAULT_REVIEW_POLICY;
  const refundDeps = { orders: deps.orders, gateway: deps.refunds, review, logger: deps.logger };
  const defs = {
    'orders.recent': ordersRecent(deps.orders),
    'orders.find': ordersFind(deps.orders),
    'deal.terms': dealTerms(deps.orders),
    'refund.check': refundCheck(refundDeps),
    'refund.submit': refundSubmit(refundDeps),
    'refund.status': refundStatus(loadProgressMessages()),
    'complaint.open': complaintOpen({ orders: deps.orders, logger: deps.logger, ...(deps.complaintOpened ? { onOpened: deps.complaintOpened } : {}) }),
  } satisfies Record<ActionName, ActionDef<unknown, string>>;
  return new Map<string, ActionDef<unknown, string>>(Object.entries(defs));
}
