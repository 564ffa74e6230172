import { and, eq, gt } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCustomerId } from '../../channels/webchat/index.js';
import { FakeClock } from '../../src/core/ports.js';
import { auditLog, coupons, deals, merchants, orders, refunds } from '../../src/db/schema.js';
import { DEMO_EN_CUSTOMER_ID } from '../../src/db/seed.js';
import { backends } from '../support/db.js';
import { loginAs } from '../support/console.js';
import { call, testService } from '../support/service.js';

type WebMessage = { id: string; author: string; text: string; quickReplies?: { id: string; label: string }[] };
const NOW = new Date('2026-11-22T09:00:00Z');

describe.each(backends())('the bot in the after-sales loop on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;

  beforeAll(async () => {
    service = await testService(backend, { clock: new FakeClock(NOW), env: { WEBCHAT_IDENTITY_SECRET: 'host-secret', SESSION_TTL_HOURS: '1000' } });
  });
  afterAll(async () => {
    await service?.close();
  });

  let chats = 0;
  function chat(customerId: string) {
    chats += 1;
    const prefix = `chat${chats}`;
    let token = '';
    let cursor: string | null = null;
    let n = 0;
    const post = async (body: { text: string } | { choice: string }) => {
      n += 1;
      if (!token) {
        const s = await call(service, 'POST', '/api/webchat/sessions', { body: { customerId, signature: signCustomerId(customerId, 'host-secret') } });
        token = s.body.token;
      }
      expect((await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: `${prefix}-${n}`, ...body } })).status).toBe(202);
      await service.settle();
      const res = await call(service, 'GET', `/api/webchat/messages${cursor ? `?after=${cursor}` : ''}`, { token });
      cursor = res.body.cursor;
      return (res.body.messages as WebMessage[]).filter((m) => m.author === 'bot');
    };
    return {
      say: (text: string) => post({ text }),
      async press(last: WebMessage[], label: string) {
        const option = (last.at(-1)?.quickReplies ?? []).find((q) => q.label.includes(label));
        expect(option, `button ${label} in ${JSON.stringify(last.at(-1)?.quickReplies)}`).toBeDefined();
        return post({ choice: option?.id ?? '' });
      },
    };
  }

  it('answers "where is my refund" from the records, without a person', async () => {
    const c = chat(DEMO_EN_CUSTOMER_ID);
    const bot = await c.say('Where is my refund?');
    const text = bot.at(-1)?.text ?? '';
    expect(text).toMatch(/^Your latest refunds:/);
    const [refund] = await service.database.db
      .select({ code: coupons.code })
      .from(refunds)
      .innerJoin(coupons, eq(coupons.id, refunds.couponId))
      .where(eq(refunds.customerId, DEMO_EN_CUSTOMER_ID));
    expect(text).toContain(refund!.code);
    expect(bot.at(-1)?.quickReplies?.map((q) => q.id)).toContain('new_refund');
  });

  it('suspending a merchant changes the bot\'s refund answer for its unused coupons, and is audited', async () => {
    const db = service.database.db;
    // An unused, unexpired coupon of a deal without refund terms.
    const [target] = await db
      .select({ customerId: orders.customerId, orderNumber: orders.orderNumber, merchantId: deals.merchantId, couponId: coupons.id, code: coupons.code })
      .from(coupons)
      .innerJoin(orders, eq(orders.id, coupons.orderId))
      .innerJoin(deals, eq(deals.id, orders.dealId))
      .where(and(eq(deals.refundAnytime, false), eq(deals.refundOnExpiry, false), eq(coupons.state, 'unused'), gt(coupons.expiresAt, NOW)))
      .limit(1);
    expect(target).toBeDefined();
    const t = target!;
    const ask = async () => {
      const c = chat(t.customerId);
      let bot = await c.say('我想退款');
      bot = await c.say(t.orderNumber);
      const option = (bot.at(-1)?.quickReplies ?? []).find((q) => q.id === t.code || q.label.startsWith(t.code));
      expect(option, JSON.stringify(bot.at(-1))).toBeDefined();
      return { c, bot: await c.press(bot, option!.label) };
    };
    const before = await ask();
    expect(before.bot.at(-1)?.text).toMatch(/不能自助退款|can't be refunded here/);

    const manager = await loginAs(service, 'manager@kefu.demo');
    const agent = await loginAs(service, 'agent1@kefu.demo');
    const refused = await call(service, 'POST', `/api/console/merchants/${t.merchantId}/status`, { token: agent.token, body: { action: 'suspend', reason: 'x' } });
    expect(refused.status).toBe(403);
    const noReason = await call(service, 'POST', `/api/console/merchants/${t.merchantId}/status`, { token: manager.token, body: { action: 'suspend' } });
    expect(noReason.status).toBe(422);
    const res = await call(service, 'POST', `/api/console/merchants/${t.merchantId}/status`, {
      token: manager.token,
      body: { action: 'suspend', reason: '多次拒收团购券，投诉率超标' },
    });
    expect(res.status).toBe(200);
    const [m] = await db.select().from(merchants).where(eq(merchants.id, t.merchantId));
    expect(m).toMatchObject({ status: 'suspended', statusReason: '多次拒收团购券，投诉率超标' });
    const audit = await db.select().from(auditLog).where(and(eq(auditLog.subjectType, 'merchant'), eq(auditLog.subjectId, t.merchantId)));
    expect(audit).toEqual([expect.objectContaining({ action: 'merchant.suspend', actorId: manager.agent.id, data: expect.objectContaining({ from: 'active', to: 'suspended', reason: '多次拒收团购券，投诉率超标' }) })]);

    const after = await ask();
    expect(after.bot.at(-1)?.text).toMatch(/已被平台暂停合作，未使用的券可以马上退款/);
    const done = await after.c.press(after.bot, '确认退款');
    expect(done.at(-1)?.text).toMatch(/退款成功/);
    const [refund] = await db.select().from(refunds).where(eq(refunds.couponId, t.couponId));
    expect(refund).toMatchObject({ status: 'approved', policy: 'merchant_suspended' });

    // The merchant page shows the record and the history of the action.
    const page = await call(service, 'GET', `/console/merchants/${t.merchantId}`, { token: manager.token });
    expect(page.status).toBe(200);
    expect(page.body).toContain('多次拒收团购券，投诉率超标');
    const reinstated = await call(service, 'POST', `/api/console/merchants/${t.merchantId}/status`, { token: manager.token, body: { action: 'reinstate', reason: '整改完成' } });
    expect(reinstated.body).toMatchObject({ status: 'active' });
  });
});
