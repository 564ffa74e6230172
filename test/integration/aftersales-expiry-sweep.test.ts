import { and, eq, inArray, lte } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCustomerId } from '../../channels/webchat/index.js';
import { createDbRefundGateway } from '../../src/actions/db-refund-gateway.js';
import type { RefundGateway } from '../../src/actions/ports.js';
import { sweepExpiredCoupons } from '../../src/aftersales/expiry-sweep.js';
import { afterSalesTimerHandlers, ensureDailySweep, EXPIRY_SWEEP, nextSweepAt } from '../../src/aftersales/timers.js';
import { runDueTimers } from '../../src/console/sla.js';
import { loadHandoffMessages } from '../../src/console/wording.js';
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

// The daily sweep fires as a timer. Run inside the timer's transaction, a whole day's expired
// coupons were refunded in one transaction, each coupon's lock (and a connection) held until the
// last payment request was answered, and nothing was committed until then. Seeing what another
// connection sees meanwhile needs PostgreSQL (PGlite has one session, where any statement waits for
// an open transaction).
describe.runIf(backends().includes('postgres'))('the daily expiry sweep timer on PostgreSQL', () => {
  let service: Awaited<ReturnType<typeof testService>>;
  beforeAll(async () => {
    service = await testService('postgres', { clock: new FakeClock(new Date('2026-11-22T09:00:00Z')) });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('commits each batch of refunds before the next batch asks the payment API', async () => {
    const db = service.database.db;
    const before = await db.$count(refunds, eq(refunds.policy, 'refund_on_expiry'));
    const base = createDbRefundGateway();
    // What the rest of the system sees of the sweep's refunds each time it submits one.
    const seenCommitted: (number | 'blocked')[] = [];
    const gateway: RefundGateway = {
      ...base,
      async submitRefund(request) {
        const count = db.$count(refunds, eq(refunds.policy, 'refund_on_expiry')).then((n) => n - before);
        seenCommitted.push(await Promise.race([count, new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 2000))]));
        return base.submitRefund(request);
      },
    };
    const handlers = afterSalesTimerHandlers({
      db,
      gateway,
      wording: loadProgressMessages(),
      notice: { secret: null, publicUrl: 'http://localhost', demoMode: true, responseHours: 24, reminderRatio: 0.8, merchantLocale: 'zh-Hans' },
      logger: silentLogger,
      refundPollMs: 60_000,
      sweepBatch: 1,
    });
    await ensureDailySweep(db, new Date('2026-11-22T09:00:00Z'));
    await db.update(timers).set({ dueAt: LATER }).where(eq(timers.kind, EXPIRY_SWEEP));
    const run = await runDueTimers({ db, wording: loadHandoffMessages(), handlers }, LATER);
    expect(run.byKind[EXPIRY_SWEEP]).toBe(1);
    expect(seenCommitted.length).toBeGreaterThan(1);
    // One coupon a batch: the n-th request saw the n - 1 refunds before it committed.
    expect(seenCommitted).toEqual(seenCommitted.map((_, i) => i));
    const [timer] = await db.select().from(timers).where(eq(timers.kind, EXPIRY_SWEEP));
    expect(timer?.dueAt).toEqual(nextSweepAt(LATER));
  });
});
