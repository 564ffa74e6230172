import { and, eq, gt, like } from 'drizzle-orm';
import type { ParsedMail } from 'mailparser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signEmailWebhook } from '../../channels/email/index.js';
import { FakeClock } from '../../src/core/ports.js';
import { conversations, coupons, deals, handoffs, messages, orders, refunds } from '../../src/db/schema.js';
import { DEMO_EN_CUSTOMER_ID, DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { consumerAsksForPerson, IDENTITY_SECRET, loginAs } from '../support/console.js';
import { backends } from '../support/db.js';
import { rawMail, startSink } from '../support/email.js';
import { call, testService } from '../support/service.js';
import { fakeBotApi } from './telegram-fake-bot-api.js';

// Acceptance of "Telegram and email channels": the same flows, refunds and handoff context on every channel.
// (Duplicate delivery — one message, one reply — is covered in telegram-channel.test.ts and email-channel.test.ts.)

const EMAIL_SECRET = 'cross-hook-secret';
const TELEGRAM_SECRET = 'cross-webhook-secret';
const EMILY = 'emily.chen@example.com';
const api = fakeBotApi();

beforeAll(() => api.listen());
afterEach(() => api.reset());
afterAll(() => api.close());

/** The numbered options of a bot mail: `1. label` lines. */
function numberedOptions(mail: ParsedMail | undefined): { n: string; label: string }[] {
  return [...(mail?.text ?? '').matchAll(/^(\d+)\. (.+)$/gm)].map((m) => ({ n: m[1] ?? '', label: m[2] ?? '' }));
}

let nextUpdateId = 900_000;
let nextMessageId = 1;
function privateUpdate(userId: number, content: Record<string, unknown>) {
  const from = { id: userId, is_bot: false, first_name: '秀兰', language_code: 'zh-hans' };
  return {
    update_id: (nextUpdateId += 1),
    message: { message_id: (nextMessageId += 1), date: 1763802000, chat: { id: userId, type: 'private', first_name: '秀兰' }, from, ...content },
  };
}
function pressed(userId: number, data: string, keyboard: unknown) {
  return {
    update_id: (nextUpdateId += 1),
    callback_query: {
      id: `cb-${nextUpdateId}`,
      from: { id: userId, is_bot: false, first_name: '秀兰', language_code: 'zh-hans' },
      message: { message_id: 1, reply_markup: keyboard, date: 1763802000, chat: { id: userId, type: 'private' } },
      chat_instance: '42',
      data,
    },
  };
}

/** What must be the same whichever channel a customer's handoff came from. */
function orderContext(packet: any) {
  return {
    customerId: packet.customer.id,
    orders: packet.orders.map((o: any) => ({
      orderNumber: o.orderNumber,
      coupons: o.coupons.map((c: any) => `${c.code}:${c.state}`),
      deal: o.deal,
      merchant: o.merchant,
    })),
    refunds: packet.refunds.map((r: any) => ({ couponCode: r.couponCode, orderNumber: r.orderNumber, amountCents: r.amountCents, status: r.status, policy: r.policy })),
  };
}

describe.each(backends())('Telegram, email and web chat side by side on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  let sink: Awaited<ReturnType<typeof startSink>>;
  const clock = new FakeClock(new Date('2026-11-22T10:00:00Z'));
  const telegramUser = 7300001;
  let emailCase = '';
  let telegramCase = '';
  let lastEmilyMail = '';

  beforeAll(async () => {
    sink = await startSink();
    service = await testService(backend, {
      clock,
      env: {
        SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
        EMAIL_FROM: 'kefu 客服 <support@kefu.example>',
        EMAIL_WEBHOOK_SECRET: EMAIL_SECRET,
        TELEGRAM_MODE: 'webhook',
        TELEGRAM_BOT_TOKEN: '123456:TEST-TOKEN',
        TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
        WEBCHAT_IDENTITY_SECRET: IDENTITY_SECRET,
      },
    });
  });
  afterAll(async () => {
    await service?.close();
    await sink?.close();
  });

  async function mail(raw: string) {
    const res = await service.app.request('/api/email/inbound', {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822', 'x-kefu-signature': signEmailWebhook(Buffer.from(raw), EMAIL_SECRET) },
      body: raw,
    });
    expect(res.status).toBe(202);
    await service.settle();
  }
  const repliesTo = (messageId: string) => sink.received.filter((m) => m.inReplyTo === `<${messageId}>`);

  const telegram = async (update: unknown) => {
    const res = await call(service, 'POST', '/api/telegram/webhook', { body: update, headers: { 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET } });
    expect(res.status).toBe(200);
    await service.settle();
  };
  const lastKeyboard = () => api.sentTo(telegramUser).filter((c) => c.body.reply_markup?.inline_keyboard).at(-1);
  async function press(find: (b: { text: string; callback_data: string }) => boolean) {
    const keyboard = lastKeyboard();
    const button = keyboard?.body.reply_markup.inline_keyboard.flat().find(find);
    expect(button, `a button in ${JSON.stringify(keyboard?.body)}`).toBeDefined();
    await telegram(pressed(telegramUser, button.callback_data, keyboard?.body.reply_markup));
  }

  /** The customer's unused, unexpired coupon of a refund-anytime deal whose title contains `dealTitle`. */
  async function unusedRefundableCoupon(customerId: string, dealTitle: string) {
    const [row] = await service.database.db
      .select({ id: coupons.id, code: coupons.code, orderNumber: orders.orderNumber })
      .from(coupons)
      .innerJoin(orders, eq(orders.id, coupons.orderId))
      .innerJoin(deals, eq(deals.id, orders.dealId))
      .where(
        and(
          eq(orders.customerId, customerId),
          like(deals.title, `%${dealTitle}%`),
          eq(coupons.state, 'unused'),
          eq(deals.refundAnytime, true),
          gt(coupons.expiresAt, clock.now()),
        ),
      )
      .limit(1);
    expect(row, `an unused refundable ${dealTitle} coupon`).toBeDefined();
    return row!;
  }

  it('an email from Emily starts the refund flow; she answers with numbers and gets exactly one refund', async () => {
    const coupon = await unusedRefundableCoupon(DEMO_EN_CUSTOMER_ID, 'IMAX');
    await mail(rawMail({ from: `Emily Chen <${EMILY}>`, subject: 'Refund for my IMAX order', id: 'x-1@mail.example.com', text: 'I want a refund' }));
    let [bot] = repliesTo('x-1@mail.example.com').slice(-1);
    expect(bot?.subject).toBe('Re: Refund for my IMAX order');
    expect(bot?.to && !Array.isArray(bot.to) ? bot.to.value[0]?.address : null).toBe(EMILY);
    // A From header proves nothing: she is asked to answer through the reply address, which only her mailbox got.
    expect(bot?.text).toMatch(/To protect your account, please reply to this email to continue/);
    const replyAddress = bot?.replyTo?.value[0]?.address ?? '';

    // Each answer is a threaded reply to the bot's last mail (to its Reply-To, as mail clients do).
    let n = 1;
    const send = async (text: string) => {
      n += 1;
      const id = `x-${n}@mail.example.com`;
      await mail(
        rawMail({
          from: `Emily Chen <${EMILY}>`,
          to: `kefu <${replyAddress}>`,
          subject: `Re: ${bot?.subject?.replace(/^Re: /, '')}`,
          id,
          text: `${text}\n\nOn Sun, 22 Nov 2026 at 10:00, kefu <support@kefu.example> wrote:\n> ${bot?.text?.split('\n')[0]}`,
          headers: [`In-Reply-To: ${bot?.messageId}`, `References: <x-1@mail.example.com> ${bot?.messageId}`],
        }),
      );
      [bot] = repliesTo(id).slice(-1);
      expect(bot, `a reply to ${id}`).toBeDefined();
      lastEmilyMail = id;
      return bot!;
    };
    const answer = async (pick: (label: string) => boolean) => {
      const options = numberedOptions(bot);
      const option = options.find((o) => pick(o.label));
      expect(option, `an option among ${options.map((o) => o.label).join(' | ')}`).toBeDefined();
      return send(option!.n);
    };
    await send('Yes, please go on');
    expect(bot?.text).toMatch(/Which order is it\?/);
    expect(bot?.text).toMatch(/Reply 1, 2.* or \d+ to choose\./);

    await answer((l) => l.includes(coupon.orderNumber) || l.includes('IMAX'));
    await answer((l) => l.startsWith(coupon.code) && l.includes('unused'));
    expect(bot?.text).toMatch(/can be refunded: ¥128\.00/);
    const confirmation = await answer((l) => l.startsWith('Yes, refund it'));
    expect(confirmation.text).toMatch(/^Done! ¥128\.00 will be back/);
    expect(confirmation.subject).toBe('Re: Refund for my IMAX order');

    const rows = await service.database.db.select().from(refunds).where(eq(refunds.couponId, coupon.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ customerId: DEMO_EN_CUSTOMER_ID, amountCents: 12800, status: 'approved', policy: 'refund_anytime' });
    const [after] = await service.database.db.select({ state: coupons.state }).from(coupons).where(eq(coupons.id, coupon.id));
    expect(after?.state).toBe('refunded');
    // Every answer landed in the one conversation the first mail opened.
    const ids = await service.database.db
      .selectDistinct({ conversationId: messages.conversationId })
      .from(messages)
      .where(and(eq(messages.channel, 'email'), eq(messages.direction, 'in')));
    expect(ids).toHaveLength(1);
  });

  it('a Telegram user who shares her phone starts the refund flow with buttons and gets exactly one refund', async () => {
    const coupon = await unusedRefundableCoupon(DEMO_SENIOR_CUSTOMER_ID, '纪念日');
    await telegram(privateUpdate(telegramUser, { text: '/start' }));
    await telegram(privateUpdate(telegramUser, { contact: { phone_number: '+8613800000001', first_name: '秀兰', user_id: telegramUser } }));
    await press((b) => b.callback_data === 'refund');
    expect(lastKeyboard()?.body.text).toMatch(/是哪一个订单/);
    await press((b) => b.text.includes(coupon.orderNumber) || b.text.includes('纪念日'));
    expect(lastKeyboard()?.body.text).toMatch(/要退哪一张券/);
    await press((b) => b.text.startsWith(coupon.code));
    expect(lastKeyboard()?.body.text).toMatch(/¥398\.00/);
    await press((b) => b.callback_data === 'confirm_refund');
    expect(api.sentTo(telegramUser).at(-1)?.body.text).toMatch(/退款成功！¥398\.00/);

    const rows = await service.database.db.select().from(refunds).where(eq(refunds.couponId, coupon.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ customerId: DEMO_SENIOR_CUSTOMER_ID, amountCents: 39800, status: 'approved' });
  });

  it('handoffs from email and Telegram reach the console with the same order context as from the web chat', async () => {
    const agent = await loginAs(service, 'agent1@kefu.demo');
    // Email: Emily replies in her thread asking for a person.
    await mail(
      rawMail({
        from: `Emily Chen <${EMILY}>`,
        subject: 'Re: Refund for my IMAX order',
        id: 'x-human@mail.example.com',
        text: 'I want to talk to a person',
        headers: [`In-Reply-To: ${repliesTo(lastEmilyMail).at(-1)?.messageId}`],
      }),
    );
    // Telegram: 秀兰 types it.
    await telegram(privateUpdate(telegramUser, { text: '转人工' }));

    const caseOf = async (channel: 'email' | 'telegram', externalId: string) => {
      const [row] = await service.database.db
        .select({ conversationId: messages.conversationId, status: conversations.status })
        .from(messages)
        .innerJoin(conversations, eq(conversations.id, messages.conversationId))
        .where(and(eq(messages.channel, channel), eq(messages.externalId, externalId)));
      expect(row?.status, `${channel} conversation handed off`).toBe('waiting');
      return row!.conversationId;
    };
    emailCase = await caseOf('email', 'x-human@mail.example.com');
    telegramCase = await caseOf('telegram', `update:${nextUpdateId}`);
    // Each consumer is told in their own channel that a person takes over, with the ticket number.
    const ticketOf = async (id: string) =>
      (await service.database.db.select({ n: handoffs.ticketNumber }).from(handoffs).where(eq(handoffs.conversationId, id)))[0]?.n;
    expect(repliesTo('x-human@mail.example.com').at(-1)?.text).toContain(`passing you to a person. Your ticket number is ${await ticketOf(emailCase)}`);
    expect(api.sentTo(telegramUser).at(-1)?.body.text).toContain(`我帮您转人工客服。您的工单号是 ${await ticketOf(telegramCase)}`);

    const queue = await call(service, 'GET', '/api/console/queue?view=waiting', { token: agent.token });
    expect(queue.status).toBe(200);
    const waiting = new Map(queue.body.cases.map((c: { id: string; channel: string }) => [c.id, c.channel]));
    expect(waiting.get(emailCase)).toBe('email');
    expect(waiting.get(telegramCase)).toBe('telegram');

    // The same customers ask for a person in the web chat.
    const web = {
      emily: (await consumerAsksForPerson(service, DEMO_EN_CUSTOMER_ID, { now: clock.now(), text: 'I want to talk to a person' })).conversationId,
      xiulan: (await consumerAsksForPerson(service, DEMO_SENIOR_CUSTOMER_ID, { now: clock.now(), text: '转人工' })).conversationId,
    };
    const packet = async (id: string) => {
      const res = await call(service, 'GET', `/api/console/conversations/${id}`, { token: agent.token });
      expect(res.status).toBe(200);
      return res.body.packet;
    };
    const [emailPacket, webEmily, telegramPacket, webXiulan] = await Promise.all([packet(emailCase), packet(web.emily), packet(telegramCase), packet(web.xiulan)]);

    expect(emailPacket.conversationChannel).toBe('email');
    expect(emailPacket.customer.id).toBe(DEMO_EN_CUSTOMER_ID);
    // Her email refund is in the history agents see.
    expect(emailPacket.refunds.some((r: { amountCents: number; status: string }) => r.amountCents === 12800 && r.status === 'approved')).toBe(true);
    expect(orderContext(emailPacket).orders.length).toBeGreaterThan(0);
    expect(orderContext(emailPacket)).toEqual(orderContext(webEmily));

    expect(telegramPacket.conversationChannel).toBe('telegram');
    expect(telegramPacket.customer.id).toBe(DEMO_SENIOR_CUSTOMER_ID);
    expect(telegramPacket.refunds.some((r: { amountCents: number }) => r.amountCents === 39800)).toBe(true);
    expect(orderContext(telegramPacket)).toEqual(orderContext(webXiulan));
    // Linked channels: the customer record shows every channel she used.
    expect(telegramPacket.customer.channels.map((c: { channel: string }) => c.channel)).toEqual(expect.arrayContaining(['telegram', 'webchat']));
  });

  it("an agent's reply to the email case arrives as a threaded reply with the right subject", async () => {
    expect(emailCase).not.toBe('');
    const agent = await loginAs(service, 'agent2@kefu.demo');
    const claim = await call(service, 'POST', `/api/console/conversations/${emailCase}/claim`, { token: agent.token });
    expect(claim.status).toBe(200);
    const text = 'Hello Emily, this is Wang Fang from customer service. I am looking at your IMAX order now.';
    const reply = await call(service, 'POST', `/api/console/conversations/${emailCase}/reply`, { token: agent.token, body: { text } });
    expect(reply.status).toBe(201);
    await service.settle();
    const delivered = sink.received.filter((m) => m.text?.includes('Wang Fang'));
    expect(delivered).toHaveLength(1);
    const [agentMail] = delivered;
    expect(agentMail?.subject).toBe('Re: Refund for my IMAX order');
    expect(agentMail?.to && !Array.isArray(agentMail.to) ? agentMail.to.value[0]?.address : null).toBe(EMILY);
    expect(agentMail?.inReplyTo).toBe('<x-human@mail.example.com>');
    expect(agentMail?.references).toContain('<x-human@mail.example.com>');
    const [row] = await service.database.db.select({ replyToken: conversations.replyToken }).from(conversations).where(eq(conversations.id, emailCase));
    expect(agentMail?.replyTo?.value[0]?.address).toBe(`support+${row?.replyToken}@kefu.example`);
  });
});
