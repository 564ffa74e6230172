import { and, eq } from 'drizzle-orm';
import type { RefundGateway, RefundPaymentStatus } from '../actions/ports.js';
import { REFUND_PAID_CHECK } from '../actions/refund-progress.js';
import type { Db, Tx } from '../db/client.js';
import { auditLog, complaints, conversations, coupons, notifications, refunds, timers } from '../db/schema.js';
import { formatMoney } from '../i18n/format.js';
import type { Logger } from '../logger.js';
import { lookupHandler, type TimerHandler } from '../console/sla.js';
import { sweepExpiredCoupons } from './expiry-sweep.js';
import { MERCHANT_DEADLINE, MERCHANT_REMINDER, type MerchantNoticeDeps, remindMerchant } from './merchant-notice.js';
import { latestConversationOf, type ProgressMessages, tellConsumer } from './progress.js';

export const EXPIRY_SWEEP = 'aftersales.expiry_sweep';
/** The one daily sweep timer row (timers are unique on kind + subject). */
export const EXPIRY_SWEEP_SUBJECT = '00000000-0000-4000-8000-00000000e5e1';

const CN_OFFSET = 8 * 3_600_000;

/** The next 00:30 China time after `now`: the daily expiry sweep runs after coupons of the previous day ran out. */
export function nextSweepAt(now: Date): Date {
  const local = new Date(now.getTime() + CN_OFFSET);
  const at = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), 0, 30) - CN_OFFSET;
  return new Date(at > now.getTime() ? at : at + 86_400_000);
}

export interface AfterSalesTimerDeps {
  db: Db;
  gateway: RefundGateway;
  wording: ProgressMessages;
  notice: MerchantNoticeDeps;
  logger: Logger;
  refundPollMs: number;
  /** Coupons the daily expiry sweep refunds per transaction (default 50). */
  sweepBatch?: number;
}

/** Makes sure the daily expiry sweep timer exists (idempotent; run at start). */
export async function ensureDailySweep(db: Tx | Db, now: Date): Promise<void> {
  await db.insert(timers).values({ kind: EXPIRY_SWEEP, subjectId: EXPIRY_SWEEP_SUBJECT, dueAt: nextSweepAt(now), createdAt: now }).onConflictDoNothing();
}

async function notifyCase(tx: Tx, conversationId: string, kind: string, data: Record<string, unknown>, now: Date) {
  const [c] = await tx.select({ owner: conversations.ownerAgentId }).from(conversations).where(eq(conversations.id, conversationId));
  await tx.insert(notifications).values(
    c?.owner
      ? { audience: 'agent', agentId: c.owner, kind, conversationId, data, createdAt: now }
      : { audience: 'managers', kind, conversationId, data, createdAt: now },
  );
}

/** Timer handlers of the after-sales loop, keyed by timer kind (plugged into the SLA timer worker). */
export function afterSalesTimerHandlers(deps: AfterSalesTimerDeps): Record<string, TimerHandler> {
  return {
    [MERCHANT_REMINDER]: async (tx, timer, now) => {
      await remindMerchant(tx, deps.notice, timer.subjectId, now);
      return { changed: false };
    },
    [MERCHANT_DEADLINE]: async (tx, timer, now) => {
      const [c] = await tx.select().from(complaints).where(eq(complaints.id, timer.subjectId)).for('update');
      if (!c || c.merchantRespondedAt || c.merchantMissedAt) return { changed: false };
      await tx.update(complaints).set({ merchantMissedAt: now }).where(eq(complaints.id, c.id));
      await tx.insert(auditLog).values({
        actorType: 'system',
        action: 'complaint.merchant_missed_deadline',
        subjectType: 'complaint',
        subjectId: c.id,
        data: { merchantId: c.merchantId, dueAt: c.merchantDueAt?.toISOString() ?? null },
        createdAt: now,
      });
      if (!c.conversationId) return { changed: false };
      await notifyCase(tx, c.conversationId, 'merchant.missed_deadline', { ticketNumber: c.ticketNumber }, now);
      return { changed: true, conversationId: c.conversationId };
    },
    // The payment API is asked outside the transaction (a slow one would hold a connection and the
    // refund's row lock for its whole timeout); its answer is applied to the refund as it is then.
    [REFUND_PAID_CHECK]: lookupHandler(
      async (timer): Promise<RefundPaymentStatus | null> => (deps.gateway.refundStatus ? deps.gateway.refundStatus(timer.subjectId) : null),
      async (tx, timer, now, status) => {
        const [r] = await tx
          .select({ refund: refunds, code: coupons.code })
          .from(refunds)
          .innerJoin(coupons, eq(coupons.id, refunds.couponId))
          .where(eq(refunds.id, timer.subjectId))
          .for('update', { of: refunds });
        if (!r || r.refund.status !== 'approved' || status === null) return { changed: false };
        switch (status.status) {
          case 'pending':
          case 'unknown':
            return { changed: false, rescheduleAt: new Date(now.getTime() + deps.refundPollMs) };
          case 'failed': {
            await tx.update(refunds).set({ status: 'pending_review', policy: 'review:payout_failed' }).where(eq(refunds.id, r.refund.id));
            await tx.update(coupons).set({ state: 'refund_pending' }).where(and(eq(coupons.id, r.refund.couponId), eq(coupons.state, 'refunded')));
            await tx.insert(auditLog).values({
              actorType: 'system',
              action: 'refund.payout_failed',
              subjectType: 'refund',
              subjectId: r.refund.id,
              data: { message: status.message },
              createdAt: now,
            });
            deps.logger.warn({ refundId: r.refund.id }, 'refund.payout_failed');
            if (r.refund.conversationId) await notifyCase(tx, r.refund.conversationId, 'refund.payout_failed', { couponCode: r.code }, now);
            return { changed: r.refund.conversationId !== null, ...(r.refund.conversationId ? { conversationId: r.refund.conversationId } : {}) };
          }
          case 'paid': {
            await tx.update(refunds).set({ status: 'paid', paidAt: status.paidAt ?? now }).where(eq(refunds.id, r.refund.id));
            await tx.insert(auditLog).values({
              actorType: 'system',
              action: 'refund.paid',
              subjectType: 'refund',
              subjectId: r.refund.id,
              data: { reference: status.reference, amountCents: r.refund.amountCents },
              createdAt: now,
            });
            const conversationId = r.refund.conversationId ?? (await latestConversationOf(tx, r.refund.customerId));
            if (!conversationId) return { changed: false };
            const wrote = await tellConsumer(
              tx,
              deps.wording,
              { key: `refund_paid:${r.refund.id}`, kind: 'refund_paid', conversationId, vars: () => ({ code: r.code, amount: formatMoney(r.refund.amountCents) }) },
              now,
            );
            return { changed: wrote, wrote, conversationId };
          }
        }
      },
    ),
    // The sweep runs outside the timer's transaction, a transaction per batch of coupons: in the
    // timer's own, a day's expired coupons were all refunded in one transaction, their row locks
    // (and a connection) held until the last payment request was answered. Batches are claimed with
    // SKIP LOCKED and refunds are unique per coupon, so a sweep that outlives the timer's claim and
    // runs beside another refunds nothing twice.
    [EXPIRY_SWEEP]: lookupHandler(
      (_timer, now) => sweepExpiredCoupons(deps, (fn) => deps.db.transaction(fn), now, deps.sweepBatch),
      async (_tx, _timer, now, run) => {
        deps.logger.info({ refunded: run.refunded, toReview: run.toReview }, 'expiry_sweep.done');
        return { changed: false, wrote: run.told > 0, rescheduleAt: nextSweepAt(now) };
      },
    ),
  };
}
