import { and, asc, eq, notExists, sql } from 'drizzle-orm';
import { z } from 'zod';
import { refundArrival } from '../actions/money.js';
import { PaymentMethod, type RefundGateway } from '../actions/ports.js';
import { scheduleRefundPaidCheck } from '../actions/refund-progress.js';
import { AppError } from '../core/errors.js';
import type { Db } from '../db/client.js';
import { auditLog, complaints, conversations, coupons, orders, refunds } from '../db/schema.js';
import { formatMoney } from '../i18n/format.js';
import { type ProgressMessages, say, tellConsumer } from './progress.js';

/** Who acts in the console (the same shape as the console's Actor). */
export interface StaffActor {
  id: string;
  name: string;
  role: 'agent' | 'manager' | 'admin' | 'editor';
}

export const ComplaintDecisionRequest = z
  .object({
    decision: z.enum(['refund', 'partial_refund', 'redo', 'apology', 'rejected']),
    /** For a partial refund: the amount in fen (at most one coupon's price). */
    amountCents: z.number().int().positive().optional(),
    note: z.string().trim().min(1).max(2000).optional(),
  })
  .strict();
export type ComplaintDecisionRequest = z.infer<typeof ComplaintDecisionRequest>;

export const isManager = (a: StaffActor) => a.role === 'manager' || a.role === 'admin';

/**
 * An agent decides a complaint after reading the merchant's answer: a (partial) refund is
 * recorded against one coupon of the order (the unique refund per coupon still holds) and paid
 * through the refund gateway; the consumer is told the decision once; the refund's payment status
 * is then followed until "refund paid" is told. Only the case owner or a manager may decide.
 */
export async function decideComplaint(
  deps: { db: Db; gateway: RefundGateway; wording: ProgressMessages },
  actor: StaffActor,
  complaintId: string,
  input: ComplaintDecisionRequest,
  now: Date,
): Promise<{ conversationId: string | null; refundId: string | null }> {
  return deps.db.transaction(async (tx) => {
    const [c] = await tx.select().from(complaints).where(eq(complaints.id, complaintId)).for('update');
    if (!c) throw new AppError('not_found', 'No such complaint');
    if (c.decidedAt) throw new AppError('conflict', `The complaint was already decided (${c.decision})`);
    const [conv] = c.conversationId ? await tx.select({ owner: conversations.ownerAgentId }).from(conversations).where(eq(conversations.id, c.conversationId)) : [];
    if (!isManager(actor) && conv?.owner !== actor.id) throw new AppError('forbidden', 'Only the owner of the case or a manager may decide this complaint');
    let refundId: string | null = null;
    let amountCents: number | null = null;
    if (input.decision === 'refund' || input.decision === 'partial_refund') {
      if (!c.orderId) throw new AppError('conflict', 'The complaint names no order to refund');
      const [order] = await tx.select().from(orders).where(eq(orders.id, c.orderId));
      if (!order) throw new AppError('conflict', 'The order is gone');
      // One coupon of the order that has no refund yet, used ones first (the complaint is about a visit).
      const [coupon] = await tx
        .select()
        .from(coupons)
        .where(and(eq(coupons.orderId, order.id), notExists(tx.select({ one: sql`1` }).from(refunds).where(eq(refunds.couponId, coupons.id)))))
        .orderBy(sql`case when ${coupons.state} = 'used' then 0 else 1 end`, asc(coupons.code))
        .limit(1)
        .for('update', { of: coupons });
      if (!coupon) throw new AppError('conflict', 'Every coupon of this order has already been refunded');
      if (input.decision === 'partial_refund') {
        if (input.amountCents === undefined) throw new AppError('validation_failed', 'A partial refund needs amountCents');
        if (input.amountCents > order.unitPriceCents) throw new AppError('validation_failed', `At most ${formatMoney(order.unitPriceCents)} per coupon`);
        amountCents = input.amountCents;
      } else amountCents = order.unitPriceCents;
      const method = PaymentMethod.safeParse(order.paymentMethod);
      if (!method.success) throw new AppError('conflict', `Unknown payment method ${order.paymentMethod}`);
      const arrival = refundArrival(method.data, now);
      const [row] = await tx
        .insert(refunds)
        .values({
          couponId: coupon.id,
          orderId: order.id,
          customerId: c.customerId,
          amountCents,
          status: 'approved',
          policy: `complaint:${input.decision}`,
          reason: input.note ?? null,
          conversationId: c.conversationId,
          decidedByAgentId: actor.id,
          expectedBy: arrival.by,
          decidedAt: now,
          createdAt: now,
        })
        .onConflictDoNothing({ target: refunds.couponId })
        .returning({ id: refunds.id });
      if (!row) throw new AppError('conflict', 'This coupon was refunded meanwhile');
      refundId = row.id;
      const paid = await deps.gateway.submitRefund({
        refundId: row.id,
        orderId: order.id,
        orderNumber: order.orderNumber,
        couponId: coupon.id,
        couponCode: coupon.code,
        customerId: c.customerId,
        amountCents,
        paymentMethod: method.data,
        reason: input.note ?? null,
      });
      // Nothing is recorded when the payment side refused or could not be reached: the agent retries.
      if (paid.status === 'failed') throw new AppError('unavailable', `The refund could not be paid (${paid.failure}); nothing was recorded, please try again`);
      if (input.decision === 'refund') await tx.update(coupons).set({ state: 'refunded' }).where(eq(coupons.id, coupon.id));
      await scheduleRefundPaidCheck(tx, row.id, now);
    }
    await tx
      .update(complaints)
      .set({ decision: input.decision, decisionAmountCents: amountCents, decidedAt: now, decidedByAgentId: actor.id, status: input.decision === 'rejected' ? 'rejected' : 'resolved', resolvedAt: now })
      .where(eq(complaints.id, complaintId));
    await tx.insert(auditLog).values({
      actorType: 'agent',
      actorId: actor.id,
      action: 'complaint.decide',
      subjectType: 'complaint',
      subjectId: complaintId,
      data: { decision: input.decision, amountCents, refundId, note: input.note ?? null },
      createdAt: now,
    });
    if (c.conversationId) {
      const amount = amountCents === null ? '' : formatMoney(amountCents);
      await tellConsumer(
        tx,
        deps.wording,
        {
          key: `case_decided:${complaintId}`,
          kind: 'case_decided',
          conversationId: c.conversationId,
          vars: (l) => ({ ticket: c.ticketNumber, decision: say(deps.wording.decisions[input.decision], l, { amount }) }),
        },
        now,
      );
    }
    return { conversationId: c.conversationId, refundId };
  });
}
