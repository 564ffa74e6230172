import { and, eq, inArray, lte } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCustomerId } from '../../channels/webchat/index.js';
import { createDbRefundGateway } from '../../src/actions/db-refund-gateway.js';
import { sweepExpiredCoupons } from '../../src/aftersales/expiry-sweep.js';
import { loadProgressMessages } from '../../src/aftersales/progress.js';
import { FakeClock } from '../../src/core/ports.js';
import { coupons, deals, orders, refunds, timers } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { silentLogger } from '../../src/logger.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';

// Long after every demo coupon ran out: each unused coupon of a refund_on_expiry deal is due.
const LATER = new Date('2028-01-01T00:30:00+08:00');

describe.each(backends())('the expiry sweep on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  const clock = new FakeClock(new Date('2026-11-22T09:00:00Z'));

  beforeAll(async () => {
    service = await testService(backend, { clock, env: { WEBCHAT_IDENTITY_SECRET: 'host-secret' } });
  });
  afterAll(async () => {
    await service?.close();
  });

  async function eligible() {
    const db = service.database.db;
    const rows = await db
      .select({ id: coupons.id, customerId: orders.customerId })
      .from(coupons)
      .innerJoin(orders, eq(orders.id, coupons.orderId))
      .innerJoin(deals, eq(deals.id, orders.dealId))
      .where(and(eq(deals.refundOnExpiry, true), inArray(coupons.state, ['unused', 'expired']), lte(coupons.expiresAt, LATER)));
    const refunded = new Set((await db.select({ couponId: refunds.couponId }).from(refunds)).map((r) => r.couponId));
    return rows.filter((r) => !refunded.has(r.id));
  }

  it('two sweeps run at once refund each eligible coupon exactly once, and the consumer is told in their chat', async () => {
    const db = service.database.db;
    // 王秀兰 has chatted before, so her updates have a channel.
    const session = await call(service, 'POST', '/api/webchat/sessions', { body: { customerId: DEMO_SENIOR_CUSTOMER_ID, signature: signCustomerId(DEMO_SENIOR_CUSTOMER_ID, 'host-secret') } });
    await call(service, 'POST', '/api/webchat/messages', { token: session.body.token, body: { clientMessageId: 'hello', text: '你好' } });
    await service.settle();

    const due = await eligible();
    expect(due.length).toBeGreaterThan(1);
    clock.set(LATER);
    const before = await db.$count(refunds);
    const gateway = createDbRefundGateway();
    const deps = { gateway, wording: loadProgressMessages(), logger: silentLogger };
    // Small batches so the two sweeps interleave over many claims.
    const [a, b] = await Promise.all([
      sweepExpiredCoupons(deps, (fn) => db.transaction(fn), LATER, 2),
      sweepExpiredCoupons(deps, (fn) => db.transaction(fn), LATER, 2),
    ]);
    expect(a.refunded + b.refunded).toBe(due.length);
    expect(gateway.calls).toBe(due.length);
    expect(await db.$count(refunds)).toBe(before + due.length);
    const rows = await db.select().from(refunds).where(inArray(refunds.couponId, due.map((d) => d.id)));
    expect(rows).toHaveLength(due.length);
    expect(rows.every((r) => r.status === 'approved' && r.policy === 'refund_on_expiry')).toBe(true);
    const states = await db.select({ state: coupons.state }).from(coupons).where(inArray(coupons.id, due.map((d) => d.id)));
    expect(states.every((s) => s.state === 'refunded')).toBe(true);
    expect(await eligible()).toHaveLength(0);

    // Nothing left: a third sweep is a no-op.
    const again = await service.aftersales.sweepNow(LATER);
    expect(again.refunded).toBe(0);

    // Each refund is followed until paid; 王秀兰 hears about each of her coupons once, then "paid".
    expect(await db.$count(timers, and(eq(timers.kind, 'refund.paid_check'), inArray(timers.subjectId, rows.map((r) => r.id))))).toBe(due.length);
    await service.timers.runOnce(LATER);
    await service.settle();
    const mine = due.filter((d) => d.customerId === DEMO_SENIOR_CUSTOMER_ID).length;
    // Her earlier session has long expired by then: she comes back with a new one.
    const back = await call(service, 'POST', '/api/webchat/sessions', { body: { customerId: DEMO_SENIOR_CUSTOMER_ID, signature: signCustomerId(DEMO_SENIOR_CUSTOMER_ID, 'host-secret') } });
    const read = await call(service, 'GET', '/api/webchat/messages', { token: back.body.token });
    const texts: string[] = read.body.messages.map((m: { text: string }) => m.text);
    expect(texts.filter((t) => t.includes('到期还没使用'))).toHaveLength(mine);
    expect(texts.filter((t) => t.includes('退款已到账'))).toHaveLength(mine);
  }, 180_000);
});
