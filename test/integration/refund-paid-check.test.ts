import { and, eq } from 'drizzle-orm';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REFUND_PAID_CHECK } from '../../src/actions/refund-progress.js';
import { FakeClock } from '../../src/core/ports.js';
import { auditLog, coupons, refunds, timers } from '../../src/db/schema.js';
import { backends } from '../support/db.js';
import { testService } from '../support/service.js';

// An approved refund's timer asks the platform's payment API whether it has been paid. The API is
// someone else's: it can be slow or away, and meanwhile nothing of ours may wait on it.
const API = 'https://orders.example.test/kefu/v1';
const NOW = new Date('2026-11-22T09:00:00Z');
const POLL_MINUTES = 30;
const server = setupServer();

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

describe.each(backends())('the refund paid-check against the payment API on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  const clock = new FakeClock(NOW);

  beforeAll(async () => {
    service = await testService(backend, {
      clock,
      env: { ORDER_API_URL: `${API}/`, ORDER_API_TOKEN: 'token', ORDER_API_TIMEOUT_MS: '2000', REFUND_STATUS_POLL_MINUTES: String(POLL_MINUTES) },
    });
  });
  afterAll(async () => {
    await service?.close();
  });

  /** One of the demo refunds, approved and waiting for its payment, with its check due now. */
  async function approvedRefund(at: Date) {
    const db = service.database.db;
    const [refund] = await db.select().from(refunds).where(eq(refunds.status, 'paid')).limit(1);
    if (!refund) throw new Error('the demo data has no paid refund');
    await db.update(refunds).set({ status: 'approved', paidAt: null }).where(eq(refunds.id, refund.id));
    await db.update(coupons).set({ state: 'refunded' }).where(eq(coupons.id, refund.couponId));
    await db
      .insert(timers)
      .values({ kind: REFUND_PAID_CHECK, subjectId: refund.id, dueAt: at, createdAt: at })
      .onConflictDoUpdate({ target: [timers.kind, timers.subjectId], set: { dueAt: at, firedAt: null } });
    return refund;
  }

  it('ask it without holding the refund: an agent can change the refund while it answers', async () => {
    const db = service.database.db;
    const at = clock.now();
    const refund = await approvedRefund(at);
    let answer: () => void = () => {};
    let asked = false;
    server.use(
      http.get(`${API}/refunds/:id`, async () => {
        asked = true;
        await new Promise<void>((resolve) => (answer = resolve));
        return HttpResponse.json({ status: 'pending' });
      }),
    );
    const run = service.timers.runOnce(at);
    await expect.poll(() => asked).toBe(true);
    const note = db.update(refunds).set({ expectedBy: new Date(at.getTime() + 86_400_000) }).where(eq(refunds.id, refund.id));
    const outcome = await Promise.race([note.then(() => 'updated'), new Promise((resolve) => setTimeout(() => resolve('blocked'), 2000))]);
    answer();
    await run;
    expect(outcome).toBe('updated');
    // Not paid yet: asked again after the poll interval.
    const [timer] = await db.select().from(timers).where(and(eq(timers.kind, REFUND_PAID_CHECK), eq(timers.subjectId, refund.id)));
    expect(timer?.firedAt).toBeNull();
    expect(timer?.dueAt).toEqual(new Date(at.getTime() + POLL_MINUTES * 60_000));
    const [still] = await db.select().from(refunds).where(eq(refunds.id, refund.id));
    expect(still?.status).toBe('approved');
  });

  it('a payout the platform reports failed goes to review, once', async () => {
    const db = service.database.db;
    clock.advance(60 * 60_000);
    const at = clock.now();
    const refund = await approvedRefund(at);
    server.use(http.get(`${API}/refunds/:id`, () => HttpResponse.json({ status: 'failed', message: 'bank account closed' })));
    await service.timers.runOnce(at);
    const [after] = await db.select().from(refunds).where(eq(refunds.id, refund.id));
    expect(after).toMatchObject({ status: 'pending_review', policy: 'review:payout_failed' });
    const [coupon] = await db.select().from(coupons).where(eq(coupons.id, refund.couponId));
    expect(coupon?.state).toBe('refund_pending');
    const audits = await db.select().from(auditLog).where(and(eq(auditLog.subjectId, refund.id), eq(auditLog.action, 'refund.payout_failed')));
    expect(audits).toHaveLength(1);
    expect(audits[0]?.data).toMatchObject({ message: 'bank account closed' });
    // Fired: a later run asks nothing more.
    await service.timers.runOnce(new Date(at.getTime() + 2 * POLL_MINUTES * 60_000));
    expect(await db.$count(auditLog, and(eq(auditLog.subjectId, refund.id), eq(auditLog.action, 'refund.payout_failed')))).toBe(1);
  });
});
