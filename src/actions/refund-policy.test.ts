import { describe, expect, it } from 'vitest';
import { ComplaintOpenInput, RefundSubmitInput } from './index.js';
import { money, refundArrival } from './money.js';
import { decideCoupon, reviewReason } from './refund-policy.js';

const NOW = new Date('2026-11-22T09:00:00Z');
const LATER = new Date('2026-12-31T15:59:59Z');
const EARLIER = new Date('2026-11-01T15:59:59Z');
const anytime = { refundAnytime: true, refundOnExpiry: false };
const onExpiry = { refundAnytime: false, refundOnExpiry: true };
const none = { refundAnytime: false, refundOnExpiry: false };

describe('refund policy', () => {
  it('decides each coupon by its state and its deal’s terms', () => {
    expect(decideCoupon({ state: 'unused', expiresAt: LATER }, anytime, NOW)).toEqual({ eligible: true, rule: 'refund_anytime' });
    expect(decideCoupon({ state: 'expired', expiresAt: EARLIER }, onExpiry, NOW)).toEqual({ eligible: true, rule: 'refund_on_expiry' });
    // Past its expiry but not yet swept to `expired`: still counts as expired.
    expect(decideCoupon({ state: 'unused', expiresAt: EARLIER }, onExpiry, NOW)).toEqual({ eligible: true, rule: 'refund_on_expiry' });
    expect(decideCoupon({ state: 'unused', expiresAt: LATER }, onExpiry, NOW)).toEqual({ eligible: false, reason: 'not_expired_yet' });
    expect(decideCoupon({ state: 'unused', expiresAt: LATER }, none, NOW)).toEqual({ eligible: false, reason: 'no_refund_terms' });
    expect(decideCoupon({ state: 'expired', expiresAt: EARLIER }, none, NOW)).toEqual({ eligible: false, reason: 'no_refund_terms' });
    for (const terms of [anytime, onExpiry, none]) {
      expect(decideCoupon({ state: 'used', expiresAt: LATER }, terms, NOW)).toEqual({ eligible: false, reason: 'used' });
      expect(decideCoupon({ state: 'refunded', expiresAt: LATER }, terms, NOW)).toEqual({ eligible: false, reason: 'already_refunded' });
      expect(decideCoupon({ state: 'refund_pending', expiresAt: LATER }, terms, NOW)).toEqual({ eligible: false, reason: 'refund_pending' });
    }
  });

  it('sends large amounts and frequent refunders to review, at the configured thresholds', () => {
    const policy = { recentCount: 3, recentWindowDays: 30, largeAmountCents: 50_000 };
    expect(reviewReason(policy, 2, 49_999)).toBeNull();
    expect(reviewReason(policy, 3, 100)).toBe('frequent_refunds');
    expect(reviewReason(policy, 0, 50_000)).toBe('large_amount');
  });
});

describe('money and arrival', () => {
  it('formats cents as yuan', () => {
    expect(money(2990)).toEqual({ cents: 2990, yuan: '29.90', text: '¥29.90' });
    expect(money(128800).text).toBe('¥1288.00');
  });

  it('counts working days in China time, skipping the weekend', () => {
    // Friday 2026-11-20 18:00 China time: 3 working days → Wednesday 25th; 7 → Tuesday Dec 1st.
    const friday = new Date('2026-11-20T10:00:00Z');
    expect(refundArrival('alipay', friday)).toMatchObject({ minWorkingDays: 1, maxWorkingDays: 3, byDate: '2026-11-25' });
    expect(refundArrival('bank_card', friday)).toMatchObject({ minWorkingDays: 3, maxWorkingDays: 7, byDate: '2026-12-01' });
  });
});

describe('action inputs from flows', () => {
  it('reads absent optional slots (undefined, null, empty) as not given and a single coupon as a list', () => {
    expect(RefundSubmitInput.parse({ order: 'KF12345678', coupons: '', reason: null })).toEqual({ order: 'KF12345678' });
    expect(RefundSubmitInput.parse({ order: 'KF12345678', coupons: 'ABCD-EFGH-JKMN' }).coupons).toEqual(['ABCD-EFGH-JKMN']);
    const complaint = ComplaintOpenInput.parse({ category: 'other', description: 'x', wantedOutcome: 'apology', occurredAt: '', attachments: undefined });
    expect(complaint).toEqual({ category: 'other', description: 'x', wantedOutcome: 'apology', attachments: [] });
    expect(() => ComplaintOpenInput.parse({ category: 'rude', description: 'x', wantedOutcome: 'apology' })).toThrow();
  });
});
