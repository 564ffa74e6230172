import { desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { type ProgressMessages, say } from '../aftersales/progress.js';
import { coupons, deals, orders, refunds } from '../db/schema.js';
import { formatDay, formatMoney } from '../i18n/format.js';
import type { ActionDef } from './registry.js';

export const RefundStatusInput = z.object({ limit: z.coerce.number().int().min(1).max(10).default(5) });
export type RefundStatusInput = z.infer<typeof RefundStatusInput>;

/**
 * `refund.status`: "where is my refund?" answered from the records, no person needed: the
 * consumer's latest refunds, one line each in their language (flows/progress-messages.yaml
 * `status_line`), newest first.
 */
export function refundStatus(wording: ProgressMessages): ActionDef<RefundStatusInput, 'found' | 'none'> {
  return {
    name: 'refund.status',
    // It reads the consumer's refunds: only for a sender the channel has proven.
    account: true,
    input: RefundStatusInput,
    outcomes: ['found', 'none'],
    async run(ctx, input) {
      const rows = await ctx.tx
        .select({ refund: refunds, code: coupons.code, title: deals.title })
        .from(refunds)
        .innerJoin(coupons, eq(coupons.id, refunds.couponId))
        .innerJoin(orders, eq(orders.id, refunds.orderId))
        .innerJoin(deals, eq(deals.id, orders.dealId))
        .where(eq(refunds.customerId, ctx.customerId))
        .orderBy(desc(refunds.createdAt))
        .limit(input.limit);
      if (rows.length === 0) return { outcome: 'none', data: { count: 0, lines: '' } };
      const lines = rows.map(({ refund: r, code, title }) =>
        say(wording.status_line[r.status], ctx.locale, {
          code,
          title,
          amount: formatMoney(r.amountCents),
          byDate: r.expectedBy ? formatDay(ctx.locale, r.expectedBy) : '—',
          paidOn: r.paidAt ? formatDay(ctx.locale, r.paidAt) : r.decidedAt ? formatDay(ctx.locale, r.decidedAt) : '—',
          reason: r.reason ?? say(wording.no_reason, ctx.locale, {}),
        }),
      );
      const inReview = rows.filter((r) => r.refund.status === 'pending_review').length;
      return { outcome: 'found', data: { count: rows.length, inReview, lines: lines.join('\n') } };
    },
  };
}
