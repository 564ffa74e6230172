import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCustomerId } from '../../channels/webchat/index.js';
import { FakeClock } from '../../src/core/ports.js';
import { coupons, deals, orders, refunds } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';

// The seed's reference time: a Sunday, 17:00 in China.
const NOW = new Date('2026-11-22T09:00:00Z');

describe.each(backends())('a refund conversation through the web chat (%s)', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  let token: string;
  let n = 0;

  beforeAll(async () => {
    service = await testService(backend, { clock: new FakeClock(NOW), env: { WEBCHAT_IDENTITY_SECRET: 'host-secret' } });
    const res = await call(service, 'POST', '/api/webchat/sessions', {
      body: { customerId: DEMO_SENIOR_CUSTOMER_ID, signature: signCustomerId(DEMO_SENIOR_CUSTOMER_ID, 'host-secret') },
    });
    token = res.body.token;
  });
  afterAll(async () => {
    await service?.close();
  });

  /** Sends text or a button press and answers the bot's replies to it. */
  async function say(body: { text: string } | { choice: string }) {
    n += 1;
    const before = await call(service, 'GET', '/api/webchat/messages', { token });
    await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: `r-${n}`, ...body } });
    await service.settle();
    const after = await call(service, 'GET', `/api/webchat/messages?after=${before.body.cursor}`, { token });
    return after.body.messages.filter((m: { author: string }) => m.author === 'bot') as { text: string; quickReplies?: { id: string; label: string }[] }[];
  }

  it('lets 王秀兰 refund her unused anniversary dinner coupon, telling the amount and the arrival date', async () => {
    const [anniversary] = await service.database.db
      .select({ orderNumber: orders.orderNumber, orderId: orders.id })
      .from(orders)
      .innerJoin(deals, eq(deals.id, orders.dealId))
      .where(and(eq(deals.title, '双人纪念日晚宴套餐'), eq(orders.customerId, DEMO_SENIOR_CUSTOMER_ID)));
    const [coupon] = await service.database.db.select().from(coupons).where(eq(coupons.orderId, anniversary!.orderId));

    await say({ text: '你好' });
    const pick = await say({ choice: "refund" });
    expect(pick.at(-1)?.quickReplies?.some((q) => q.label.includes('双人纪念日晚宴套餐'))).toBe(true);
    const which = await say({ text: anniversary!.orderNumber });
    expect(which.at(-1)?.quickReplies?.some((q) => q.label.includes(coupon!.code))).toBe(true);
    const offer = await say({ text: coupon!.code });
    expect(offer.at(-1)?.text).toContain('¥398.00');
    expect(offer.at(-1)?.text).toContain('最晚 11月25日（周三）');
    expect(await service.database.db.select().from(refunds).where(eq(refunds.couponId, coupon!.id))).toHaveLength(0);
    const done = await say({ choice: 'confirm_refund' });
    expect(done.at(-1)?.text).toContain('¥398.00');
    expect(done.at(-1)?.text).toContain('11月25日（周三） 前退回');
    const [row] = await service.database.db.select().from(refunds).where(eq(refunds.couponId, coupon!.id));
    expect(row).toMatchObject({ status: 'approved', policy: 'refund_anytime', amountCents: 39800 });
  });
});
