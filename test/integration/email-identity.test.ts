import { and, eq } from 'drizzle-orm';
import type { ParsedMail } from 'mailparser';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmailAdapter } from '../../channels/email/index.js';
import { FakeClock } from '../../src/core/ports.js';
import { conversations, coupons, messages, orders, refunds } from '../../src/db/schema.js';
import { DEMO_EN_CUSTOMER_ID } from '../../src/db/seed.js';
import { backends } from '../support/db.js';
import { startSink } from '../support/email.js';
import { loginAs } from '../support/console.js';
import { call, testService } from '../support/service.js';

// Issue 10 item 1: a forged email From header must never act on the account it names.
const EMILY = 'emily.chen@example.com';
const TRUSTED = 'mx.kefu.example';

function numberedOptions(mail: ParsedMail | undefined): { n: string; label: string }[] {
  return [...(mail?.text ?? '').matchAll(/^(\d+)\. (.+)$/gm)].map((m) => ({ n: m[1] ?? '', label: m[2] ?? '' }));
}

describe.each(backends())('who is writing an email, on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  let sink: Awaited<ReturnType<typeof startSink>>;
  let smtpPort = 0;
  const clock = new FakeClock(new Date('2026-11-22T10:00:00Z'));

  beforeAll(async () => {
    sink = await startSink();
    service = await testService(backend, {
      clock,
      start: true,
      env: {
        DEMO_MODE: 'false',
        HOST: '127.0.0.1',
        SMTP_LISTEN_PORT: '0',
        SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
        EMAIL_FROM: 'kefu 客服 <support@kefu.example>',
        EMAIL_TRUSTED_AUTHSERV_ID: TRUSTED,
      },
    });
    const email = service.adapters.email;
    if (!(email instanceof EmailAdapter) || email.smtpPort === null) throw new Error('email adapter not listening');
    smtpPort = email.smtpPort;
  });
  afterAll(async () => {
    await service?.close();
    await sink?.close();
  });

  /** Delivers one raw mail over real SMTP with the given envelope, then lets the bot answer. */
  async function smtp(envelopeFrom: string, to: string, lines: string[], text: string) {
    const raw = [...lines, `To: ${to}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', text].join('\r\n');
    const transport = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    const info = await transport.sendMail({ envelope: { from: envelopeFrom, to: [to.replace(/^.*<|>$/g, '')] }, raw });
    expect(info.response).toMatch(/^250/);
    await service.settle();
  }
  const mailsTo = (address: string) => sink.received.filter((m) => (m.to && !Array.isArray(m.to) ? m.to.value[0]?.address : null) === address);
  const stored = async (messageId: string) => {
    const [row] = await service.database.db
      .select({ message: messages, conversation: conversations })
      .from(messages)
      .innerJoin(conversations, eq(conversations.id, messages.conversationId))
      .where(and(eq(messages.channel, 'email'), eq(messages.externalId, messageId)));
    if (!row) throw new Error(`${messageId} not stored`);
    return row;
  };

  it('a forged From gets no refund and sees nothing of the account; the mailbox owner replying through the reply address gets the refund', async () => {
    const db = service.database.db;
    const owned = await db
      .select({ orderNumber: orders.orderNumber, code: coupons.code, couponId: coupons.id })
      .from(orders)
      .innerJoin(coupons, eq(coupons.orderId, orders.id))
      .where(eq(orders.customerId, DEMO_EN_CUSTOMER_ID));
    expect(owned.map((o) => o.code)).toContain('ZR9P-NE48-3H2Z');
    const refundsOf = async () => db.select().from(refunds).where(eq(refunds.customerId, DEMO_EN_CUSTOMER_ID));
    const before = (await refundsOf()).length;

    // The attack: envelope from the attacker, header From Emily, one subject, four bodies.
    const header = (n: number) => [`From: Emily Chen <${EMILY}>`, 'Subject: 退款', `Message-ID: <atk-${n}@evil.test>`];
    for (const [n, body] of ['我要退款', '1', '1', '1'].entries()) await smtp('attacker@evil.test', 'support@kefu.example', header(n), body);

    expect(await refundsOf()).toHaveLength(before);
    const answers = mailsTo(EMILY);
    // One short answer, and the repeated attempts are not answered again (no flood of the mailbox).
    expect(answers).toHaveLength(1);
    for (const mail of answers) {
      const text = `${mail.subject}\n${mail.text}\n${mail.html}`;
      for (const o of owned) {
        expect(text).not.toContain(o.orderNumber);
        expect(text).not.toContain(o.code);
      }
      expect(text).not.toMatch(/¥\s?\d/);
      expect(text).not.toMatch(/KF\d{8}/);
    }
    expect(answers[0]?.text).toContain('为了保护您的账户安全，请直接回复这封邮件继续办理');
    const attack = await stored('atk-0@evil.test');
    expect(attack.message.identityLevel).toBe('claimed');
    expect(attack.conversation.identityLevel).toBe('claimed');

    // Emily's mail client answers our mail: to its Reply-To (the conversation's reply address).
    let bot = answers[0];
    const replyTo = bot?.replyTo?.value[0]?.address;
    expect(replyTo).toMatch(/^support\+[\w-]{20,}@kefu\.example$/);
    let n = 0;
    const reply = async (text: string) => {
      n += 1;
      const id = `emily-${n}@example.com`;
      await smtp(EMILY, `kefu <${replyTo}>`, [`From: Emily Chen <${EMILY}>`, 'Subject: Re: 退款', `Message-ID: <${id}>`, `In-Reply-To: ${bot?.messageId}`], text);
      expect((await stored(id)).message.identityLevel).toBe('proven');
      bot = mailsTo(EMILY).at(-1);
      return bot;
    };
    const pick = async (match: (label: string) => boolean) => {
      const option = numberedOptions(bot).find((o) => match(o.label));
      expect(option, `an option among ${numberedOptions(bot).map((o) => o.label).join(' | ')}`).toBeDefined();
      return reply(option?.n ?? '');
    };
    const imax = owned.find((o) => o.code === 'ZR9P-NE48-3H2Z');
    await reply('好的，继续');
    expect(bot?.text).toContain('是哪一个订单');
    await pick((l) => l.includes('IMAX'));
    await pick((l) => l.startsWith('ZR9P-NE48-3H2Z'));
    expect(bot?.text).toContain('¥128.00');
    await pick((l) => l.startsWith('确认退款'));
    expect(bot?.text).toContain('退款成功');
    const after = await refundsOf();
    expect(after).toHaveLength(before + 1);
    expect(after.find((r) => r.couponId === imax?.couponId)).toMatchObject({ amountCents: 12800, status: 'approved' });
  });

  it('a DMARC pass from the trusted receiving server proves the sender; from any other server it does not', async () => {
    const send = (from: string, id: string, authResults: string[]) =>
      smtp(from, 'support@kefu.example', [...authResults.map((a) => `Authentication-Results: ${a}`), `From: ${from}`, `Subject: 退款 ${id}`, `Message-ID: <${id}>`], '我要退款');

    await send('zhangwei85@example.com', 'dmarc-trusted@example.com', [
      `${TRUSTED}; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com; dmarc=pass (p=reject) header.from=example.com`,
    ]);
    expect((await stored('dmarc-trusted@example.com')).message.identityLevel).toBe('proven');
    expect(mailsTo('zhangwei85@example.com').at(-1)?.text).toContain('是哪一个订单');

    // Same verdict, but written by a server we do not trust (or by the sender themselves).
    await send('lina.1990@example.com', 'dmarc-untrusted@example.com', ['mx.evil.test; dmarc=pass header.from=example.com']);
    expect((await stored('dmarc-untrusted@example.com')).message.identityLevel).toBe('claimed');
    expect(mailsTo('lina.1990@example.com').at(-1)?.text).toContain('请直接回复这封邮件');

    // Asking for a person works for anyone; the agent sees that the sender is not verified.
    await smtp('lina.1990@example.com', 'support@kefu.example', ['From: lina.1990@example.com', 'Subject: 退款 dmarc-untrusted@example.com', 'Message-ID: <lina-human@example.com>'], '转人工');
    const { conversation } = await stored('lina-human@example.com');
    expect(conversation.status).toBe('waiting');
    const agent = await loginAs(service, 'agent1@kefu.demo');
    const detail = await call(service, 'GET', `/api/console/conversations/${conversation.id}`, { token: agent.token });
    expect(detail.status).toBe(200);
    expect(detail.body.case.identityLevel).toBe('claimed');
    expect(detail.body.packet.identityLevel).toBe('claimed');
    expect(detail.body.handoff.summary.split('\n')[0]).toContain('发件人未验证');
    const page = await service.app.request(`/console?c=${conversation.id}`, { headers: { authorization: `Bearer ${agent.token}` } });
    // The console speaks the agent's language (zh-Hans by default).
    expect(await page.text()).toContain('发件人未验证');

    // A trusted-looking header below the topmost one was written before our server saw the mail.
    await send('chenjing@example.com', 'dmarc-buried@example.com', [
      'mx.evil.test; dmarc=none header.from=example.com',
      `${TRUSTED}; dmarc=pass header.from=example.com`,
    ]);
    expect((await stored('dmarc-buried@example.com')).message.identityLevel).toBe('claimed');
    // DMARC pass for another domain than the From header's proves nothing about this address.
    await send('zhoujie98@example.com', 'dmarc-other@example.com', [`${TRUSTED}; dmarc=pass header.from=evil.test`]);
    expect((await stored('dmarc-other@example.com')).message.identityLevel).toBe('claimed');
  });

  it('answers to mail that only claims an address are capped per address (no mailbox flooding)', async () => {
    for (let i = 0; i < 8; i += 1) {
      await smtp('attacker@evil.test', 'support@kefu.example', ['From: victim@example.org', `Subject: 你好 ${i}`, `Message-ID: <flood-${i}@evil.test>`], '你好');
    }
    const rows = await service.database.db.select().from(messages).where(eq(messages.externalId, 'flood-7@evil.test'));
    expect(rows).toHaveLength(1);
    expect(mailsTo('victim@example.org').length).toBeLessThanOrEqual(5);
    expect(mailsTo('victim@example.org').length).toBeGreaterThan(0);
  });

  it('a reply token sent to one address proves nothing for another address', async () => {
    await smtp('zhang.li@example.com', 'support@kefu.example', ['From: zhang.li@example.com', 'Subject: 你好', 'Message-ID: <tok-1@example.com>'], '你好');
    const { conversation } = await stored('tok-1@example.com');
    await smtp(
      'someone@evil.test',
      `support+${conversation.replyToken}@kefu.example`,
      ['From: someone@evil.test', 'Subject: Re: 你好', 'Message-ID: <tok-2@evil.test>'],
      '我要退款',
    );
    expect((await stored('tok-2@evil.test')).message.identityLevel).toBe('claimed');
  });
});
