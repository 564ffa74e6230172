import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { Attachment } from '../core/message.js';
import { maskPersonalData } from '../core/mask.js';
import { nextTicketNumber } from '../db/counters.js';
import { auditLog, complaintCategory, complaintOutcome, complaints, merchants } from '../db/schema.js';
import type { Tx } from '../db/client.js';
import type { Logger } from '../logger.js';
import { cnDate } from './money.js';
import { OrderRef, optionalSlot, resolveOrder } from './orders.js';
import type { OrderSource } from './ports.js';
import { type ActionDef, lastInTurn } from './registry.js';
import { HUMAN_PROMISE } from './refunds.js';
import { orderItem } from './views.js';

export const ComplaintCategory = z.enum(complaintCategory.enumValues);
export type ComplaintCategory = z.infer<typeof ComplaintCategory>;
export const WantedOutcome = z.enum(complaintOutcome.enumValues);
export type WantedOutcome = z.infer<typeof WantedOutcome>;

export const ComplaintOpenInput = z.object({
  category: ComplaintCategory,
  /** The order concerned (id, order number or coupon code); its merchant is the one complained about. */
  order: optionalSlot(OrderRef),
  /** The merchant, when there is no order to name. */
  merchantId: optionalSlot(z.string().trim().min(1).max(100)),
  /** What happened, in the consumer's words (personal data is masked before storing). */
  description: z.string().trim().min(1).max(4000),
  /** When it happened, as the consumer said it. */
  occurredAt: optionalSlot(z.string().trim().max(200)),
  wantedOutcome: WantedOutcome,
  attachments: z.preprocess((v) => (v === null || v === '' || v === undefined ? [] : v), z.array(Attachment).max(20)),
});
export type ComplaintOpenInput = z.infer<typeof ComplaintOpenInput>;

export interface ComplaintDeps {
  orders: OrderSource;
  logger: Logger;
  /** After-sales: notify the merchant in the same transaction (response link, deadline timers). */
  onOpened?: (tx: Tx, complaintId: string, now: Date) => Promise<unknown>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `complaint.open`: records a complaint with a `C…` ticket number against the merchant (counting
 * it), audited. The flow then tells the 1-hour / 24-hour promise and hands off.
 * `not_found` when the named order or merchant is not the consumer's to complain about.
 */
export function complaintOpen(deps: ComplaintDeps): ActionDef<ComplaintOpenInput, 'opened' | 'not_found'> {
  return {
    name: 'complaint.open',
    account: true,
    input: ComplaintOpenInput,
    outcomes: ['opened', 'not_found'],
    async run(ctx, input) {
      const { tx, now } = ctx;
      let orderId: string | null = null;
      let merchantId: string | null = null;
      let merchantName: string | null = null;
      let order = null;
      if (input.order !== undefined) {
        order = await resolveOrder(deps.orders, tx, ctx.customerId, input.order);
        if (!order) return { outcome: 'not_found', data: {} };
        const local = await deps.orders.mirror(tx, order);
        orderId = local.orderId;
        merchantId = local.merchantId;
        merchantName = order.deal.merchant.name;
      } else if (input.merchantId !== undefined) {
        const [merchant] = UUID.test(input.merchantId)
          ? await tx.select({ id: merchants.id, name: merchants.name }).from(merchants).where(eq(merchants.id, input.merchantId))
          : [];
        if (!merchant) return { outcome: 'not_found', data: {} };
        merchantId = merchant.id;
        merchantName = merchant.name;
      }
      const ticketNumber = await nextTicketNumber(tx, 'C', now);
      const [row] = await tx
        .insert(complaints)
        .values({
          ticketNumber,
          customerId: ctx.customerId,
          merchantId,
          orderId,
          conversationId: ctx.conversationId,
          category: input.category,
          description: maskPersonalData(input.description),
          occurredAt: input.occurredAt === undefined ? null : maskPersonalData(input.occurredAt),
          wantedOutcome: input.wantedOutcome,
          attachments: input.attachments,
          createdAt: now,
        })
        .returning({ id: complaints.id });
      if (!row) throw new Error('complaint insert returned no row');
      if (merchantId !== null) {
        // Every complaint against a closing merchant updates this one row: last in the turn, so
        // its lock lasts until the commit, not through the rest of the turn (30 ms waits before).
        const counted = merchantId;
        await lastInTurn(ctx, (last) =>
          last.update(merchants).set({ complaintCount: sql`${merchants.complaintCount} + 1` }).where(eq(merchants.id, counted)),
        );
      }
      await tx.insert(auditLog).values({
        actorType: 'bot',
        action: 'complaint.open',
        subjectType: 'complaint',
        subjectId: row.id,
        data: { ticketNumber, category: input.category, merchantId, orderId, customerId: ctx.customerId, conversationId: ctx.conversationId },
        createdAt: now,
      });
      if (merchantId !== null) await deps.onOpened?.(tx, row.id, now);
      deps.logger.info({ complaintId: row.id, ticketNumber, category: input.category }, 'complaint.opened');
      const firstResponseBy = new Date(now.getTime() + HUMAN_PROMISE.firstResponseHours * 3_600_000);
      const resolutionBy = new Date(now.getTime() + HUMAN_PROMISE.resolutionHours * 3_600_000);
      return {
        outcome: 'opened',
        data: {
          complaintId: row.id,
          ticketNumber,
          category: input.category,
          wantedOutcome: input.wantedOutcome,
          merchantName,
          order: order ? orderItem(order, ctx.locale) : null,
          attachmentCount: input.attachments.length,
          humanPromise: HUMAN_PROMISE,
          firstResponseBy: firstResponseBy.toISOString(),
          resolutionBy: resolutionBy.toISOString(),
          resolutionByDate: cnDate(resolutionBy),
        },
      };
    },
  };
}
