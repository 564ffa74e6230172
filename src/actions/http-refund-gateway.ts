import { z } from 'zod';
import type { OrderApiClient } from './order-api-client.js';
import type { RefundGateway, RefundGatewayResult } from './ports.js';

const RefundAnswer = z.object({ status: z.enum(['accepted', 'pending']), reference: z.string().nullable().default(null) });

/**
 * RefundGateway over the platform's refund endpoint (docs/order-api.md `POST /refunds`). The
 * `Idempotency-Key` is the coupon, so a retried or repeated request can never pay a coupon twice.
 */
export function createHttpRefundGateway(client: OrderApiClient): RefundGateway {
  return {
    async submitRefund(request): Promise<RefundGatewayResult> {
      const result = await client.request('POST', '/refunds', RefundAnswer, {
        body: request,
        headers: { 'idempotency-key': `coupon:${request.couponId}` },
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
  };
}
