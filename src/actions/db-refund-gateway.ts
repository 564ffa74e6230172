import type { RefundGateway } from './ports.js';

/**
 * The default RefundGateway when no platform API is configured: the refund is recorded in our
 * tables (status `approved`, expected arrival) and paid out by the platform's back office, so
 * the gateway accepts at once. Tests count its calls.
 */
export function createDbRefundGateway(): RefundGateway & { readonly calls: number } {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    async submitRefund() {
      calls += 1;
      return { status: 'accepted', reference: null };
    },
    // The back office pays what we record: once accepted, the refund counts as paid.
    async refundStatus() {
      return { status: 'paid', paidAt: null, reference: null };
    },
  };
}
