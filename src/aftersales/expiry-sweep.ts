import { and, eq, inArray, lte, notExists, sql } from 'drizzle-orm';
import { refundArrival } from '../actions/money.js';
import { PaymentMethod, type RefundGateway } from '../actions/ports.js';
import { scheduleRefundPaidCheck } from '../actions/refund-progress.js';
import type { Tx } from '../db/client.js';
import { auditLog, coupons, deals, orders, refunds } from '../db/schema.js';
import { formatDay, formatMoney } from '../i18n/format.js';
import type { Logger } from '../logger.js';
import { latestConversationOf, type ProgressMessages, tellConsumer } from './progress.js';

export interface SweepDeps {
  gateway: RefundGateway;
  wording: ProgressMessages;
  logger: Logger;
}

/** What one sweep did. */
export interface SweepRun {
  refunded: number;
  toReview: number;
  told: number;
}

/** Runs `fn` in a transaction of its own, one per batch (the timer, `sweepNow` and the CLI alike). */
export type InTx = <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;

/**
 * Refunds every unused coupon of a `refund_on_expiry` deal that has expired (DESIGN.md "Refunds").
 * Coupons are claimed in batches with FOR UPDATE SKIP LOCKED and each refund is an insert into the
 * unique `refunds.coupon_id`, so sweeps running at once on several instances refund each coupon
 * exactly once. The consumer is told in their latest conversation's channel.
 */
export async function sweepExpiredCoupons(deps: SweepDeps, inTx: InTx, now: Date, batch = 50): Promise<SweepRun> {
  const run: SweepRun = { refunded: 0, toReview: 0, told: 0 };
  for (;;) {
    const n = await inTx(async (tx) => {
      const due = await tx
        .select({
          couponId: coupons.id,
          code: coupons.code,
          orderId: orders.id,
          orderNumber: orders.orderNumber,
          customerId: orders.customerId,
          amountCents: orders.unitPriceCents,
          paymentMethod: orders.paymentMethod,
          title: deals.title,
        })
        .from(coupons)
        .innerJoin(orders, eq(orders.id, coupons.orderId))
        .innerJoin(deals, eq(deals.id, orders.dealId))
        .where(
          and(
            eq(deals.refundOnExpiry, true),
            inArray(coupons.state, ['unused', 'expired']),
            lte(coupons.expiresAt, now),
            notExists(tx.select({ one: sql`1` }).from(refunds).where(eq(refunds.couponId, coupons.id))),
          ),
        )
        .orderBy(coupons.id)
        .limit(batch)
        .for('update', { of: coupons, skipLocked: true });
      for (const c of due) await refundOne(deps, tx, c, now, run);
      return due.length;
    });
    if (n < batch) return run;
  }
}

async function refundOne(
  deps: SweepDeps,
  tx: Tx,
  c: { couponId: string; code: string; orderId: string; orderNumber: string; customerId: string; amountCents: number; paymentMethod: string; title: string },
  now: Date,
  run: SweepRun,
): Promise<void> {
  const method = PaymentMethod.safeParse(c.paymentMethod);
  const arrival = method.success ? refundArrival(method.data, now) : null;
  const [row] = await tx
    .insert(refunds)
    .values({
      couponId: c.couponId,
      orderId: c.orderId,
      customerId: c.customerId,
      amountCents: c.amountCents,
      status: 'approved',
      policy: 'refund_on_expiry',
      expectedBy: arrival?.by ?? null,
      decidedAt: now,
      createdAt: now,
    })
    .onConflictDoNothing({ target: refunds.couponId })
    .returning({ id: refunds.id });
  if (!row) return;
  const paid = method.success
    ? await deps.gateway.submitRefund({
        refundId: row.id,
        orderId: c.orderId,
        orderNumber: c.orderNumber,
        couponId: c.couponId,
        couponCode: c.code,
        customerId: c.customerId,
        amountCents: c.amountCents,
        paymentMethod: method.data,
        reason: null,
      })
    : ({ status: 'failed', failure: 'rejected', message: `unknown payment method ${c.paymentMethod}` } as const);
  const audit = { actorType: 'system', subjectType: 'refund', subjectId: row.id, createdAt: now } as const;
  const data = { couponId: c.couponId, couponCode: c.code, orderId: c.orderId, customerId: c.customerId, amountCents: c.amountCents, policy: 'refund_on_expiry' };
  if (paid.status === 'failed') {
    await tx.update(refunds).set({ status: 'pending_review', policy: 'review:gateway_failed', expectedBy: null, decidedAt: null }).where(eq(refunds.id, row.id));
    await tx.update(coupons).set({ state: 'refund_pending' }).where(eq(coupons.id, c.couponId));
    await tx.insert(auditLog).values({ ...audit, action: 'refund.gateway_failed', data: { ...data, failure: paid.failure, message: paid.message } });
    deps.logger.warn({ refundId: row.id, failure: paid.failure }, 'refund.gateway_failed');
    run.toReview += 1;
    return;
  }
  await tx.update(coupons).set({ state: 'refunded' }).where(eq(coupons.id, c.couponId));
  await scheduleRefundPaidCheck(tx, row.id, now);
  await tx.insert(auditLog).values({ ...audit, action: 'refund.approve', data: { ...data, sweep: true, expectedBy: arrival?.by.toISOString() ?? null } });
  run.refunded += 1;
  const conversationId = await latestConversationOf(tx, c.customerId);
  if (conversationId) {
    const told = await tellConsumer(
      tx,
      deps.wording,
      {
        key: `expiry_refunded:${row.id}`,
        kind: 'expiry_refunded',
        conversationId,
        vars: (l) => ({ code: c.code, title: c.title, amount: formatMoney(c.amountCents), byDate: arrival ? formatDay(l, arrival.by) : '—' }),
      },
      now,
    );
    if (told) run.told += 1;
  }
}
