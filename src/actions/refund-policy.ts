import type { CouponState } from './ports.js';

/** Why a coupon cannot be refunded by the bot. */
export type IneligibleReason = 'used' | 'already_refunded' | 'refund_pending' | 'no_refund_terms' | 'not_expired_yet';
export type RefundRule = 'refund_anytime' | 'refund_on_expiry' | 'merchant_suspended';

export type CouponDecision = { eligible: true; rule: RefundRule } | { eligible: false; reason: IneligibleReason };

/** Thresholds above which an otherwise eligible refund waits for an agent. */
export interface RefundReviewPolicy {
  /** This many refunds by the customer within the window send the next one to review. */
  recentCount: number;
  recentWindowDays: number;
  /** A request of at least this many cents goes to review. */
  largeAmountCents: number;
}

export const DEFAULT_REVIEW_POLICY: RefundReviewPolicy = { recentCount: 3, recentWindowDays: 30, largeAmountCents: 50_000 };

export type ReviewReason = 'frequent_refunds' | 'large_amount';

/**
 * The domain rule for one coupon (DESIGN.md "Refunds"): unused + refund_anytime → approved at
 * once; unused and expired + refund_on_expiry → approved; used → never by the bot (complaint);
 * no matching terms → explain them. A suspended merchant's unused coupons are approved at once,
 * whatever the deal's terms (managers suspend merchants who cannot be trusted to deliver).
 * Decided here, never by an LLM.
 */
export function decideCoupon(
  coupon: { state: CouponState; expiresAt: Date },
  deal: { refundAnytime: boolean; refundOnExpiry: boolean; merchant?: { status: 'active' | 'warned' | 'suspended' } },
  now: Date,
): CouponDecision {
  switch (coupon.state) {
    case 'used':
      return { eligible: false, reason: 'used' };
    case 'refunded':
      return { eligible: false, reason: 'already_refunded' };
    case 'refund_pending':
      return { eligible: false, reason: 'refund_pending' };
    case 'unused':
    case 'expired': {
      const expired = coupon.state === 'expired' || coupon.expiresAt.getTime() <= now.getTime();
      if (deal.merchant?.status === 'suspended') return { eligible: true, rule: 'merchant_suspended' };
      if (deal.refundAnytime) return { eligible: true, rule: 'refund_anytime' };
      if (deal.refundOnExpiry) return expired ? { eligible: true, rule: 'refund_on_expiry' } : { eligible: false, reason: 'not_expired_yet' };
      return { eligible: false, reason: 'no_refund_terms' };
    }
  }
}

/** Whether an eligible request must go to an agent instead of being approved automatically. */
export function reviewReason(policy: RefundReviewPolicy, recentRefunds: number, amountCents: number): ReviewReason | null {
  if (amountCents >= policy.largeAmountCents) return 'large_amount';
  if (recentRefunds >= policy.recentCount) return 'frequent_refunds';
  return null;
}

/** Which reason speaks for a whole request when no coupon is eligible; the most actionable first. */
export function dominantReason(reasons: readonly IneligibleReason[]): IneligibleReason {
  const order: IneligibleReason[] = ['used', 'no_refund_terms', 'not_expired_yet', 'refund_pending', 'already_refunded'];
  return order.find((r) => reasons.includes(r)) ?? 'already_refunded';
}
