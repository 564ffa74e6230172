import { z } from 'zod';
import type { OrderApiClient } from './order-api-client.js';
import type { RefundGateway, RefundGatewayResult, RefundPaymentStatus } from './ports.js';

const StatusAnswer = z.object({
  status: z.enum(['pending', 'paid', 'failed']),
  paidAt: z.iso.datetime({ offset: true }).nullable().default(null),
  reference: z.string().nullable().default(null),
  message: z.string().nullable().default(null),
});

const RefundAnswer = z.object({ status: z.enum(['accepted', 'pending']), reference: z.string().nullable().default(null) });

/**
 * RefundGateway over the platform's refund endpoint (docs/order-api.md `POST /refunds`). The
 * `Idempotency-Key` is the coupon, so a retried or repeated request can never pay a coupon twice.
 */
export function createHttpRefundGateway(client: OrderApiClient): RefundGateway {
  return {
    async submitRefund(request): Promise<RefundGatewayResult> {
      const key = request.purpose === 'compensation' ? `compensation:${request.refundId}` : `coupon:${request.couponId}`;
      const result = await client.request('POST', '/refunds', RefundAnswer, {
        body: request,
        headers: { 'idempotency-key': key },
      });
      switch (result.kind) {
        case 'ok':
          return { status: result.data.status, reference: result.data.reference };
        case 'not_found':
          return { status: 'failed', failure: 'rejected', message: 'the platform does not know this order or coupon' };
        case 'rejected':
          return { status: 'failed', failure: 'rejected', message: result.message };
        case 'unreachable':
          return { status: 'failed', failure: 'unreachable', message: result.message };
        case 'invalid_response':
          return { status: 'failed', failure: 'invalid_response', message: result.message };
      }
    },
    async refundStatus(refundId): Promise<RefundPaymentStatus> {
      const result = await client.request('GET', `/refunds/${encodeURIComponent(refundId)}`, StatusAnswer);
      switch (result.kind) {
        case 'ok': {
          const a = result.data;
          if (a.status === 'paid') return { status: 'paid', paidAt: a.paidAt ? new Date(a.paidAt) : null, reference: a.reference };
          if (a.status === 'failed') return { status: 'failed', message: a.message ?? 'the platform reports the payout failed' };
          return { status: 'pending' };
        }
        case 'not_found':
          return { status: 'unknown', message: 'the platform does not know this refund' };
        case 'rejected':
        case 'unreachable':
        case 'invalid_response':
          return { status: 'unknown', message: result.message };
      }
    },
  };
}
