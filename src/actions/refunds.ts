import { and, eq, gte, inArray } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/client.js';
import { auditLog, coupons, refunds } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { money, refundArrival } from './money.js';
import { scheduleRefundPaidCheck } from './refund-progress.js';
import { OrderRef, optionalSlot, resolveOrder } from './orders.js';
import type { CouponState, CouponView, OrderSource, OrderView, RefundGateway } from './ports.js';
import {
  type CouponDecision,
  decideCoupon,
  dominantReason,
  type IneligibleReason,
  type RefundReviewPolicy,
  type ReviewReason,
  reviewReason,
} from './refund-policy.js';
import type { ActionContext, ActionDef } from './registry.js';
import { couponData, orderItem, refundTerms } from './views.js';

const DAY = 86_400_000;

/** The service promise told with every case that goes to a person. */
export const HUMAN_PROMISE = { firstResponseHours: 1, resolutionHours: 24 } as const;

const CouponRefs = optionalSlot(z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.string().trim().min(1).max(100)).max(50)));

export const RefundCheckInput = z.object({
  /** The order: its id, order number, or one of its coupon codes. */
  order: OrderRef,
  /** Coupon ids or codes of that order; absent or empty means all of its coupons. */
  coupons: CouponRefs,
});
export type RefundCheckInput = z.infer<typeof RefundCheckInput>;

export const RefundSubmitInput = RefundCheckInput.extend({
  /** Optional reason the consumer gave (statistics only; never required). */
  reason: optionalSlot(z.string().trim().max(500)),
});
export type RefundSubmitInput = z.infer<typeof RefundSubmitInput>;

export type RefundCheckOutcome =
  | 'eligible'
  | 'partially_eligible'
  | 'review'
  | 'used'
  | 'no_refund_terms'
  | 'not_expired_yet'
  | 'already_refunded'
  | 'not_found';

export type RefundSubmitOutcome = 'refunded' | 'pending_review' | 'already_refunded' | 'ineligible' | 'not_found';

/** What the flow should offer next, as one closed value. */
export type NextStep = 'submit' | 'agent_review' | 'complaint' | 'explain_terms' | 'wait_for_expiry' | 'nothing_to_do';

export interface RefundDeps {
  orders: OrderSource;
  gateway: RefundGateway;
  review: RefundReviewPolicy;
  logger: Logger;
}

/** The coupons of `order` a request names (by id or code); null when any is not part of it. */
function selectCoupons(order: OrderView, refs: readonly string[] | undefined): CouponView[] | null {
  if (!refs || refs.length === 0) return order.coupons;
  const picked: CouponView[] = [];
  for (const ref of refs) {
    const code = ref.toUpperCase();
    const coupon = order.coupons.find((c) => c.id === ref || c.code === code);
    if (!coupon) return null;
    if (!picked.includes(coupon)) picked.push(coupon);
  }
  return picked;
}

async function recentRefundCount(db: DbOrTx, customerId: string, now: Date, windowDays: number): Promise<number> {
  return db.$count(refunds, and(eq(refunds.customerId, customerId), gte(refunds.createdAt, new Date(now.getTime() - windowDays * DAY))));
}

function nextStepFor(reason: IneligibleReason): NextStep {
  switch (reason) {
    case 'used':
      return 'complaint';
    case 'no_refund_terms':
      return 'explain_terms';
    case 'not_expired_yet':
      return 'wait_for_expiry';
    case 'already_refunded':
    case 'refund_pending':
      return 'nothing_to_do';
  }
}

interface Evaluated {
  coupon: CouponView;
  decision: CouponDecision;
}

function couponDecisionData(e: Evaluated, unitPriceCents: number) {
  return {
    ...couponData(e.coupon),
    eligible: e.decision.eligible,
    rule: e.decision.eligible ? e.decision.rule : null,
    reason: e.decision.eligible ? null : e.decision.reason,
    amount: money(unitPriceCents),
  };
}

/** `refund.check`: per coupon, whether the bot may refund it and why not; nothing is changed. */
export function refundCheck(deps: RefundDeps): ActionDef<RefundCheckInput, RefundCheckOutcome> {
  return {
    name: 'refund.check',
    account: true,
    input: RefundCheckInput,
    outcomes: ['eligible', 'partially_eligible', 'review', 'used', 'no_refund_terms', 'not_expired_yet', 'already_refunded', 'not_found'],
    async run(ctx, input) {
      const order = await resolveOrder(deps.orders, ctx.tx, ctx.customerId, input.order);
      const selected = order && selectCoupons(order, input.coupons);
      if (!order || !selected) return { outcome: 'not_found', data: {} };
      const evaluated = selected.map((coupon) => ({ coupon, decision: decideCoupon(coupon, order.deal, ctx.now) }));
      const eligible = evaluated.filter((e) => e.decision.eligible);
      const amountCents = eligible.length * order.unitPriceCents;
      const recent = await recentRefundCount(ctx.tx, ctx.customerId, ctx.now, deps.review.recentWindowDays);
      // A suspended merchant's unused coupons are approved at once: no review thresholds.
      const suspended = order.deal.merchant.status === 'suspended';
      const review = eligible.length > 0 && !suspended ? reviewReason(deps.review, recent, amountCents) : null;
      const reasons = evaluated.flatMap((e) => (e.decision.eligible ? [] : [e.decision.reason]));
      const reason = eligible.length === 0 ? dominantReason(reasons) : null;
      let outcome: RefundCheckOutcome;
      let nextStep: NextStep;
      if (reason !== null) {
        outcome = reason === 'refund_pending' ? 'already_refunded' : reason;
        nextStep = nextStepFor(reason);
      } else if (review !== null) {
        outcome = 'review';
        nextStep = 'agent_review';
      } else {
        outcome = eligible.length === evaluated.length ? 'eligible' : 'partially_eligible';
        nextStep = 'submit';
      }
      return {
        outcome,
        data: {
          order: orderItem(order, ctx.locale),
          coupons: evaluated.map((e) => couponDecisionData(e, order.unitPriceCents)),
          eligibleCouponIds: eligible.map((e) => e.coupon.id),
          eligibleCount: eligible.length,
          ineligibleCount: evaluated.length - eligible.length,
          amount: money(amountCents),
          reason,
          reviewReason: review,
          refundTerms: refundTerms(order.deal),
          validTo: order.deal.validTo,
          arrival: eligible.length > 0 && review === null ? arrivalData(order, ctx.now) : null,
          merchantSuspended: suspended,
          humanPromise: review === null ? null : HUMAN_PROMISE,
          offerPerson: review !== null || reason === 'no_refund_terms' || reason === 'used',
          nextStep,
        },
      };
    },
  };
}

function arrivalData(order: OrderView, now: Date) {
  const a = refundArrival(order.paymentMethod, now);
  return { minWorkingDays: a.minWorkingDays, maxWorkingDays: a.maxWorkingDays, byDate: a.byDate, paymentMethod: order.paymentMethod };
}

interface RefundLine {
  couponId: string;
  code: string;
  amount: ReturnType<typeof money>;
  refundId: string;
}

/**
 * `refund.submit`: re-decides the policy on locked coupon rows inside the turn's transaction,
 * records one refund per coupon (the unique `refunds.coupon_id` makes a second one impossible, also
 * under concurrent requests), pays approved ones through the gateway, and audits each decision.
 */
export function refundSubmit(deps: RefundDeps): ActionDef<RefundSubmitInput, RefundSubmitOutcome> {
  return {
    name: 'refund.submit',
    account: true,
    input: RefundSubmitInput,
    outcomes: ['refunded', 'pending_review', 'already_refunded', 'ineligible', 'not_found'],
    run: (ctx, input) => submit(deps, ctx, input),
  };
}

async function submit(deps: RefundDeps, ctx: ActionContext, input: RefundSubmitInput) {
  const { tx, now } = ctx;
  const order = await resolveOrder(deps.orders, tx, ctx.customerId, input.order);
  const selected = order && selectCoupons(order, input.coupons);
  if (!order || !selected) return { outcome: 'not_found' as const, data: {} };
  const local = await deps.orders.mirror(tx, order);
  const localId = (c: CouponView): string => local.coupons.get(c.id) ?? c.id;

  // Lock the coupons (in id order, so two requests for overlapping coupons cannot deadlock), then
  // decide on what is committed now: a request that waited here sees the winner's refund.
  const ids = selected.map(localId);
  const locked = await tx
    .select({ id: coupons.id, state: coupons.state, expiresAt: coupons.expiresAt })
    .from(coupons)
    .where(inArray(coupons.id, ids))
    .orderBy(coupons.id)
    .for('update');
  const existing = await tx.select({ couponId: refunds.couponId, status: refunds.status }).from(refunds).where(inArray(refunds.couponId, ids));
  const evaluated: Evaluated[] = selected.map((coupon) => {
    const row = locked.find((l) => l.id === localId(coupon));
    const refund = existing.find((r) => r.couponId === localId(coupon));
    let state: CouponState = row?.state ?? coupon.state;
    if (refund) state = refund.status === 'pending_review' ? 'refund_pending' : 'refunded';
    return { coupon, decision: decideCoupon({ state, expiresAt: row?.expiresAt ?? coupon.expiresAt }, order.deal, now) };
  });
  const eligible = evaluated.filter((e) => e.decision.eligible);
  const skipped = evaluated.flatMap((e) => (e.decision.eligible ? [] : [{ couponId: e.coupon.id, code: e.coupon.code, reason: e.decision.reason }]));

  if (eligible.length === 0) {
    const reason = dominantReason(skipped.map((s) => s.reason));
    const already = reason === 'already_refunded' || reason === 'refund_pending';
    return {
      outcome: already ? ('already_refunded' as const) : ('ineligible' as const),
      data: { order: orderItem(order, ctx.locale), reason, skipped, refundTerms: refundTerms(order.deal), nextStep: nextStepFor(reason) },
    };
  }

  const recent = await recentRefundCount(tx, ctx.customerId, now, deps.review.recentWindowDays);
  const review: ReviewReason | null =
    order.deal.merchant.status === 'suspended' ? null : reviewReason(deps.review, recent, eligible.length * order.unitPriceCents);
  const arrival = refundArrival(order.paymentMethod, now);
  const refunded: RefundLine[] = [];
  const pendingReview: (RefundLine & { why: ReviewReason | 'gateway_failed' })[] = [];
  const reason = input.reason ?? null;

  for (const { coupon, decision } of eligible) {
    if (!decision.eligible) continue;
    const couponId = localId(coupon);
    const [row] = await tx
      .insert(refunds)
      .values({
        couponId,
        orderId: local.orderId,
        customerId: ctx.customerId,
        amountCents: order.unitPriceCents,
        status: review ? 'pending_review' : 'approved',
        policy: review ? `review:${review}` : decision.rule,
        reason,
        conversationId: ctx.conversationId,
        expectedBy: review ? null : arrival.by,
        decidedAt: review ? null : now,
        createdAt: now,
      })
      .onConflictDoNothing({ target: refunds.couponId })
      .returning({ id: refunds.id });
    if (!row) {
      skipped.push({ couponId: coupon.id, code: coupon.code, reason: 'already_refunded' });
      continue;
    }
    const line: RefundLine = { couponId: coupon.id, code: coupon.code, amount: money(order.unitPriceCents), refundId: row.id };
    const audit = {
      actorType: 'bot',
      subjectType: 'refund',
      subjectId: row.id,
      createdAt: now,
    } as const;
    const auditData = { couponId, couponCode: coupon.code, orderId: local.orderId, orderNumber: order.orderNumber, customerId: ctx.customerId, conversationId: ctx.conversationId, amountCents: order.unitPriceCents };
    if (review) {
      await tx.update(coupons).set({ state: 'refund_pending' }).where(eq(coupons.id, couponId));
      await tx.insert(auditLog).values({ ...audit, action: 'refund.review_requested', data: { ...auditData, policy: `review:${review}` } });
      pendingReview.push({ ...line, why: review });
      continue;
    }
    const result = await deps.gateway.submitRefund({
      refundId: row.id,
      orderId: order.id,
      orderNumber: order.orderNumber,
      couponId: coupon.id,
      couponCode: coupon.code,
      customerId: ctx.customerId,
      amountCents: order.unitPriceCents,
      paymentMethod: order.paymentMethod,
      reason,
    });
    if (result.status === 'failed') {
      // Policy said yes but the money did not go out: a person finishes it, the consumer is told so.
      await tx
        .update(refunds)
        .set({ status: 'pending_review', policy: 'review:gateway_failed', expectedBy: null, decidedAt: null })
        .where(eq(refunds.id, row.id));
      await tx.update(coupons).set({ state: 'refund_pending' }).where(eq(coupons.id, couponId));
      await tx.insert(auditLog).values({
        ...audit,
        action: 'refund.gateway_failed',
        data: { ...auditData, policy: decision.rule, failure: result.failure, message: result.message },
      });
      deps.logger.warn({ refundId: row.id, failure: result.failure }, 'refund.gateway_failed');
      pendingReview.push({ ...line, why: 'gateway_failed' });
      continue;
    }
    await tx.update(coupons).set({ state: 'refunded' }).where(eq(coupons.id, couponId));
    await scheduleRefundPaidCheck(tx, row.id, now);
    await tx.insert(auditLog).values({
      ...audit,
      action: 'refund.approve',
      data: { ...auditData, policy: decision.rule, gateway: result.status, reference: result.reference, expectedBy: arrival.by.toISOString() },
    });
    refunded.push(line);
  }

  const sum = (lines: RefundLine[]) => money(lines.length * order.unitPriceCents);
  const outcome: RefundSubmitOutcome = refunded.length > 0 ? 'refunded' : pendingReview.length > 0 ? 'pending_review' : 'already_refunded';
  deps.logger.info({ orderId: order.id, outcome, refunded: refunded.length, pendingReview: pendingReview.length }, 'refund.submitted');
  return {
    outcome,
    data: {
      order: orderItem(order, ctx.locale),
      refunded,
      pendingReview,
      skipped,
      amount: sum(refunded),
      pendingAmount: sum(pendingReview),
      arrival: refunded.length > 0 ? arrivalData(order, now) : null,
      reviewReason: pendingReview[0]?.why ?? null,
      humanPromise: pendingReview.length > 0 ? HUMAN_PROMISE : null,
      reason: outcome === 'already_refunded' ? 'already_refunded' : null,
    },
  };
}
