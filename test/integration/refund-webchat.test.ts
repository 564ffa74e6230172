import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCustomerId } from '../../channels/webchat/index.js';
import { FakeClock } from '../../src/core/ports.js';
import { coupons, refunds } from '../../src/db/schema.js';
import { DEMO_EN_CUSTOMER_ID, DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';

type WebMessage = { id: string; author: string; text: string; quickReplies?: { id: string; label: string }[] };

// A consumer gets a refund through the web chat API only: session, messages, quick replies.
describe.each(backends())('refund through the web chat API on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;

  beforeAll(async () => {
    service = await testService(backend, { env: { WEBCHAT_IDENTITY_SECRET: 'host-secret' }, clock: new FakeClock(new Date('2026-11-22T09:00:00Z')) });
  });
  afterAll(async () => {
    await service?.close();
  });

  function chat(customerId: string) {
    let token = '';
    let cursor: string | null = null;
    let n = 0;
    const read = async (): Promise<WebMessage[]> => {
      const res = await call(service, 'GET', `/api/webchat/messages${cursor ? `?after=${cursor}` : ''}`, { token });
      expect(res.status).toBe(200);
      cursor = res.body.cursor;
      return res.body.messages;
    };
    const post = async (body: { text: string } | { choice: string }) => {
      n += 1;
      const res = await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: `m-${n}`, ...body } });
      expect(res.status).toBe(202);
      await service.settle();
      const bot = (await read()).filter((m) => m.author === 'bot');
      expect(bot.length).toBeGreaterThan(0);
      return bot;
    };
    return {
      async open() {
        const res = await call(service, 'POST', '/api/webchat/sessions', { body: { customerId, signature: signCustomerId(customerId, 'host-secret') } });
        expect(res.status).toBe(201);
        token = res.body.token;
      },
      say: (text: string) => post({ text }),
      /** Presses the quick reply of the last bot message whose label contains `label`. */
      async press(last: WebMessage[], label: string) {
        const options = last.at(-1)?.quickReplies ?? [];
        const option = options.find((q) => q.label.includes(label));
        expect(option, `a button "${label}" among ${options.map((q) => q.label).join(' | ')}`).toBeDefined();
        return post({ choice: option?.id ?? '' });
      },
    };
  }

  async function refundsOf(customerId: string) {
    return service.database.db
      .select({ id: refunds.id, couponId: refunds.couponId, status: refunds.status, amountCents: refunds.amountCents })
      .from(refunds)
      .where(eq(refunds.customerId, customerId));
  }

  it('王秀兰 says 我想退款, picks her unused anniversary dinner coupon and gets it refunded exactly once', async () => {
    const before = await refundsOf(DEMO_SENIOR_CUSTOMER_ID);
    const c = chat(DEMO_SENIOR_CUSTOMER_ID);
    await c.open();
    let bot = await c.say('我想退款');
    expect(bot.at(-1)?.text).toMatch(/是哪一个订单/);
    expect(bot.at(-1)?.quickReplies?.map((q) => q.label)).toContain('找人工客服');
    bot = await c.press(bot, '纪念日');
    expect(bot.at(-1)?.text).toMatch(/要退哪一张券/);
    bot = await c.press(bot, '未使用');
    expect(bot.at(-1)?.text).toMatch(/¥398\.00/);
    bot = await c.press(bot, '确认退款');
    expect(bot.at(-1)?.text).toMatch(/退款成功！¥398\.00 会在 \d{1,2}月\d{1,2}日（周[一二三四五六日]） 前退回/);

    const after = await refundsOf(DEMO_SENIOR_CUSTOMER_ID);
    expect(after).toHaveLength(before.length + 1);
    const refund = after.find((r) => !before.some((b) => b.id === r.id));
    expect(refund).toMatchObject({ amountCents: 39800, status: 'approved' });
    const [coupon] = await service.database.db.select().from(coupons).where(eq(coupons.id, refund?.couponId ?? ''));
    expect(coupon?.state).toBe('refunded');

    // Asking again for the same coupon is refused politely, and nothing new is written.
    bot = await c.say('我想退款');
    bot = await c.press(bot, '纪念日');
    expect(bot.at(-1)?.quickReplies?.some((q) => q.label.includes('未使用'))).toBe(false);
    bot = await c.press(bot, '已退款');
    expect(bot.at(-1)?.text).toMatch(/已经退过款了/);
    expect(await service.database.db.$count(refunds, eq(refunds.couponId, refund?.couponId ?? ''))).toBe(1);
  });

  it('Emily says "I want a refund" and refunds the unused coupon of her IMAX order; the refunded one is refused', async () => {
    const c = chat(DEMO_EN_CUSTOMER_ID);
    await c.open();
    let bot = await c.say('I want a refund');
    expect(bot.at(-1)?.text).toMatch(/Which order is it\?/);
    bot = await c.press(bot, 'IMAX');
    bot = await c.press(bot, 'unused');
    expect(bot.at(-1)?.text).toMatch(/can be refunded: ¥128\.00/);
    bot = await c.press(bot, 'Yes, refund it');
    expect(bot.at(-1)?.text).toMatch(/^Done! ¥128\.00 will be back/);

    bot = await c.say('I want a refund');
    bot = await c.press(bot, 'IMAX');
    const labels = bot.at(-1)?.quickReplies?.map((q) => q.label) ?? [];
    expect(labels.filter((l) => l.endsWith('· refunded'))).toHaveLength(2);
    bot = await c.press(bot, 'refunded');
    expect(bot.at(-1)?.text).toMatch(/has already been refunded/);
    const rows = await service.database.db.select().from(refunds).where(eq(refunds.customerId, DEMO_EN_CUSTOMER_ID));
    // The seed's earlier refund of the other coupon plus exactly one new one.
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((r) => r.couponId)).size).toBe(2);
  });
});
