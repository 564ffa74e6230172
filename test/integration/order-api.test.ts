import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { delay, HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpOrderSource, mirrorId } from '../../src/actions/http-order-source.js';
import { createHttpRefundGateway } from '../../src/actions/http-refund-gateway.js';
import { createActionRegistry } from '../../src/actions/index.js';
import { OrderApiClient } from '../../src/actions/order-api-client.js';
import type { RefundRequest } from '../../src/actions/ports.js';
import type { ActionRegistry } from '../../src/actions/registry.js';
import { FakeClock } from '../../src/core/ports.js';
import type { Database } from '../../src/db/client.js';
import { auditLog, channelIdentities, conversations, coupons, customers, merchants, refunds } from '../../src/db/schema.js';
import { silentLogger } from '../../src/logger.js';
import { backends, freshDatabase } from '../support/db.js';

const API = 'https://orders.example.test/kefu/v1';
const TOKEN = 'test-order-api-token';
const NOW = new Date('2026-11-22T09:00:00Z');
const FIXTURE = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/order-api/order.json'), 'utf8'));
const CUSTOMER = FIXTURE.order.customerId as string;

/** A fresh copy of the fixture order, optionally changed. */
function remoteOrder(change: (o: any) => void = () => {}) {
  const o = structuredClone(FIXTURE.order);
  change(o);
  return o;
}

const server = setupServer();
const client = new OrderApiClient({ baseUrl: `${API}/`, token: TOKEN, timeoutMs: 200, logger: silentLogger });
const refundRequest: RefundRequest = {
  refundId: randomUUID(),
  orderId: 'ord_7Hc2kQ',
  orderNumber: 'P2026112000123',
  couponId: 'cpn_A1',
  couponCode: 'QW7E-R8TY-2U3P',
  customerId: CUSTOMER,
  amountCents: 8800,
  paymentMethod: 'alipay',
  reason: null,
};

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

describe('HTTP refund gateway', () => {
  const gateway = createHttpRefundGateway(client);

  it('accepts with the platform reference, sending the bearer token and the coupon as idempotency key', async () => {
    let seen: { auth: string | null; key: string | null; body: unknown } | null = null;
    server.use(
      http.post(`${API}/refunds`, async ({ request }) => {
        seen = { auth: request.headers.get('authorization'), key: request.headers.get('idempotency-key'), body: await request.json() };
        return HttpResponse.json({ status: 'accepted', reference: 'RF-0001' }, { status: 201 });
      }),
    );
    expect(await gateway.submitRefund(refundRequest)).toEqual({ status: 'accepted', reference: 'RF-0001' });
    expect(seen).toEqual({ auth: `Bearer ${TOKEN}`, key: 'coupon:cpn_A1', body: refundRequest });
  });

  it('tells "the platform said no" (4xx) from "could not reach it" (5xx, timeout, network)', async () => {
    server.use(http.post(`${API}/refunds`, () => HttpResponse.json({ error: { code: 'already_refunded', message: 'coupon already refunded' } }, { status: 409 })));
    expect(await gateway.submitRefund(refundRequest)).toEqual({ status: 'failed', failure: 'rejected', message: 'coupon already refunded' });

    server.use(http.post(`${API}/refunds`, () => new HttpResponse(null, { status: 404 })));
    expect(await gateway.submitRefund(refundRequest)).toMatchObject({ status: 'failed', failure: 'rejected' });

    server.use(http.post(`${API}/refunds`, () => new HttpResponse('upstream down', { status: 503 })));
    expect(await gateway.submitRefund(refundRequest)).toEqual({ status: 'failed', failure: 'unreachable', message: 'HTTP 503' });

    server.use(
      http.post(`${API}/refunds`, async () => {
        await delay(2000);
        return HttpResponse.json({ status: 'accepted', reference: null });
      }),
    );
    const started = performance.now();
    expect(await gateway.submitRefund(refundRequest)).toEqual({ status: 'failed', failure: 'unreachable', message: 'no answer within 200 ms' });
    expect(performance.now() - started).toBeLessThan(1500);

    server.use(http.post(`${API}/refunds`, () => HttpResponse.error()));
    expect(await gateway.submitRefund(refundRequest)).toMatchObject({ status: 'failed', failure: 'unreachable' });
  });

  it('treats an answer it cannot read as unknown, not as paid', async () => {
    server.use(http.post(`${API}/refunds`, () => new HttpResponse('<html>ok</html>', { status: 200, headers: { 'content-type': 'text/html' } })));
    expect(await gateway.submitRefund(refundRequest)).toEqual({ status: 'failed', failure: 'invalid_response', message: 'not JSON' });
    server.use(http.post(`${API}/refunds`, () => HttpResponse.json({ status: 'paid-ish' })));
    expect(await gateway.submitRefund(refundRequest)).toMatchObject({ status: 'failed', failure: 'invalid_response' });
  });
});

describe.each(backends())('actions over the HTTP order source (%s)', (backend) => {
  let database: Database;
  let registry: ActionRegistry;
  let conversationId: string;
  let refundPosts: number;

  async function act(name: string, input: unknown, customerId = CUSTOMER) {
    const def = registry.get(name);
    if (!def) throw new Error(`no action ${name}`);
    return database.db.transaction((tx) =>
      def.run({ tx, now: NOW, clock: new FakeClock(NOW), customerId, conversationId, locale: 'zh-Hans' }, def.input.parse(input)),
    ) as Promise<{ outcome: string; data: any }>;
  }

  function serveOrder(order: unknown) {
    server.use(
      http.get(`${API}/customers/:customer/orders/:id`, ({ params, request }) => {
        if (request.headers.get('authorization') !== `Bearer ${TOKEN}`) return new HttpResponse(null, { status: 401 });
        if (params.customer !== CUSTOMER || params.id !== 'ord_7Hc2kQ') return new HttpResponse(null, { status: 404 });
        return HttpResponse.json({ order });
      }),
    );
  }

  beforeAll(async () => {
    database = await freshDatabase(backend);
    await database.db.insert(customers).values({ id: CUSTOMER, name: '陈阿姨', phone: '13900000123' });
    const [identity] = await database.db.insert(channelIdentities).values({ customerId: CUSTOMER, channel: 'webchat', externalId: 'order-api-test' }).returning();
    const [conversation] = await database.db
      .insert(conversations)
      .values({ customerId: CUSTOMER, channelIdentityId: identity!.id, channel: 'webchat', replyToken: randomUUID() })
      .returning();
    conversationId = conversation!.id;
    registry = createActionRegistry({ orders: createHttpOrderSource(client), refunds: createHttpRefundGateway(client), logger: silentLogger });
  }, 60_000);

  afterAll(async () => {
    await database?.close();
  });

  it('lists and finds the consumer’s orders from the platform', async () => {
    server.use(
      http.get(`${API}/customers/:customer/orders`, ({ params, request }) => {
        expect(new URL(request.url).searchParams.get('limit')).toBe('5');
        return HttpResponse.json({ orders: params.customer === CUSTOMER ? [remoteOrder()] : [] });
      }),
      http.get(`${API}/customers/:customer/orders/lookup`, ({ request }) =>
        new URL(request.url).searchParams.get('q') === 'P2026112000123' ? HttpResponse.json({ order: remoteOrder() }) : new HttpResponse(null, { status: 404 }),
      ),
    );
    const recent = await act('orders.recent', {});
    expect(recent.outcome).toBe('found');
    expect(recent.data.orders[0]).toMatchObject({
      id: 'ord_7Hc2kQ',
      title: '早茶双人点心套餐',
      merchantName: '金玉满堂粤菜酒家',
      total: { cents: 17600, text: '¥176.00' },
      couponSummary: { total: 2, unused: 1, used: 1 },
    });
    expect((await act('orders.find', { query: 'P2026112000123' })).data.order.coupons[1]).toMatchObject({ code: 'ZX4C-V5BN-6M7K', state: 'used', usedOn: '2026-11-21' });
    expect((await act('orders.find', { query: 'P999' })).outcome).toBe('not_found');
  });

  it('answers not_found for an order the platform does not have, or has for someone else', async () => {
    serveOrder(remoteOrder((o) => (o.customerId = 'someone-else')));
    expect((await act('refund.check', { order: 'ord_7Hc2kQ' })).outcome).toBe('not_found');
    expect((await act('refund.check', { order: 'ord_missing' })).outcome).toBe('not_found');
    server.use(http.get(`${API}/customers/:customer/orders/lookup`, () => new HttpResponse(null, { status: 404 })));
    expect((await act('refund.submit', { order: 'ord_missing' })).outcome).toBe('not_found');
  });

  it('refunds a remote coupon once: a local mirror row per coupon carries the unique refund', async () => {
    serveOrder(remoteOrder());
    refundPosts = 0;
    server.use(
      http.post(`${API}/refunds`, async ({ request }) => {
        refundPosts += 1;
        const body = (await request.json()) as RefundRequest;
        expect(body).toMatchObject({ orderId: 'ord_7Hc2kQ', couponId: 'cpn_A1', amountCents: 8800, paymentMethod: 'alipay' });
        return HttpResponse.json({ status: 'pending', reference: 'RF-77' });
      }),
    );
    const check = await act('refund.check', { order: 'ord_7Hc2kQ' });
    expect(check.outcome).toBe('partially_eligible');
    const res = await act('refund.submit', { order: 'ord_7Hc2kQ' });
    expect(res.outcome).toBe('refunded');
    expect(res.data.amount.text).toBe('¥88.00');
    expect(res.data.arrival).toMatchObject({ minWorkingDays: 1, maxWorkingDays: 3 });
    expect(res.data.refunded).toEqual([expect.objectContaining({ couponId: 'cpn_A1', code: 'QW7E-R8TY-2U3P' })]);
    expect(res.data.skipped).toEqual([{ couponId: 'cpn_A2', code: 'ZX4C-V5BN-6M7K', reason: 'used' }]);
    expect(refundPosts).toBe(1);

    const localCoupon = mirrorId('coupon', 'cpn_A1');
    const rows = await database.db.select().from(refunds).where(eq(refunds.couponId, localCoupon));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'approved', policy: 'refund_anytime', orderId: mirrorId('order', 'ord_7Hc2kQ'), amountCents: 8800 });
    const [mirrored] = await database.db.select().from(coupons).where(eq(coupons.id, localCoupon));
    expect(mirrored).toMatchObject({ code: 'QW7E-R8TY-2U3P', state: 'refunded' });
    const [audit] = await database.db.select().from(auditLog).where(eq(auditLog.subjectId, rows[0]!.id));
    expect(audit!.data).toMatchObject({ gateway: 'pending', reference: 'RF-77' });

    // The platform has not caught up and still shows the coupon unused: no second refund.
    const again = await act('refund.submit', { order: 'ord_7Hc2kQ', coupons: ['cpn_A1'] });
    expect(again.outcome).toBe('already_refunded');
    expect(refundPosts).toBe(1);
    expect(await database.db.select().from(refunds).where(eq(refunds.couponId, localCoupon))).toHaveLength(1);
  });

  it('pays a remote coupon at most once under 50 concurrent submissions', async () => {
    const race = remoteOrder((o) => {
      o.id = 'ord_race';
      o.orderNumber = 'P2026112000999';
      o.quantity = 1;
      o.totalCents = 8800;
      o.coupons = [{ id: 'cpn_R1', code: 'RACE-RACE-RACE', state: 'unused', usedAt: null, expiresAt: '2027-02-28T23:59:59+08:00' }];
    });
    let posts = 0;
    server.use(
      http.get(`${API}/customers/:customer/orders/ord_race`, () => HttpResponse.json({ order: race })),
      http.post(`${API}/refunds`, () => {
        posts += 1;
        return HttpResponse.json({ status: 'accepted', reference: `RF-${posts}` });
      }),
    );
    const results = await Promise.all(Array.from({ length: 50 }, () => act('refund.submit', { order: 'ord_race' })));
    expect(results.filter((r) => r.outcome === 'refunded')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'already_refunded')).toHaveLength(49);
    expect(posts).toBe(1);
    expect(await database.db.select().from(refunds).where(eq(refunds.couponId, mirrorId('coupon', 'cpn_R1')))).toHaveLength(1);
  }, 60_000);

  it('sends the refund to a person when the platform cannot be reached or says no', async () => {
    serveOrder(remoteOrder((o) => {
      o.id = 'ord_7Hc2kQ';
      o.coupons[1].state = 'unused';
      o.coupons[1].usedAt = null;
    }));
    server.use(http.post(`${API}/refunds`, () => new HttpResponse(null, { status: 502 })));
    const res = await act('refund.submit', { order: 'ord_7Hc2kQ', coupons: ['ZX4C-V5BN-6M7K'] });
    expect(res.outcome).toBe('pending_review');
    expect(res.data.reviewReason).toBe('gateway_failed');
    const [row] = await database.db.select().from(refunds).where(eq(refunds.couponId, mirrorId('coupon', 'cpn_A2')));
    expect(row).toMatchObject({ status: 'pending_review', policy: 'review:gateway_failed' });
  });

  it('opens a complaint against the mirrored merchant', async () => {
    serveOrder(remoteOrder());
    const res = await act('complaint.open', { category: 'coupon_refused', order: 'ord_7Hc2kQ', description: '店员说团购券周末不能用', wantedOutcome: 'refund' });
    expect(res.outcome).toBe('opened');
    expect(res.data.merchantName).toBe('金玉满堂粤菜酒家');
    const [merchant] = await database.db.select().from(merchants).where(eq(merchants.id, mirrorId('merchant', 'm_jinyu')));
    expect(merchant!.complaintCount).toBe(1);
  });

  it('fails loudly (not as "no orders") when the platform is down, slow or answers garbage', async () => {
    server.use(http.get(`${API}/customers/:customer/orders`, () => new HttpResponse(null, { status: 500 })));
    await expect(act('orders.recent', {})).rejects.toMatchObject({ code: 'unavailable', details: { reason: 'unreachable' } });
    server.use(
      http.get(`${API}/customers/:customer/orders`, async () => {
        await delay(2000);
        return HttpResponse.json({ orders: [] });
      }),
    );
    await expect(act('orders.recent', {})).rejects.toMatchObject({ code: 'unavailable', details: { reason: 'unreachable' } });
    server.use(http.get(`${API}/customers/:customer/orders`, () => new HttpResponse('{"orders": [', { status: 200 })));
    await expect(act('orders.recent', {})).rejects.toMatchObject({ code: 'unavailable', details: { reason: 'invalid_response' } });
    server.use(http.get(`${API}/customers/:customer/orders`, () => HttpResponse.json({ orders: [{ id: 'x' }] })));
    await expect(act('orders.recent', {})).rejects.toMatchObject({ details: { reason: 'invalid_response' } });
    server.use(http.get(`${API}/customers/:customer/orders`, () => new HttpResponse(null, { status: 403 })));
    await expect(act('orders.recent', {})).rejects.toMatchObject({ details: { reason: 'rejected', status: 403 } });
    server.use(http.get(`${API}/deals/:id`, () => new HttpResponse(null, { status: 404 })));
    expect((await act('deal.terms', { dealId: 'deal_gone' })).outcome).toBe('not_found');
  });
});
