import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, asc, eq } from 'drizzle-orm';
import { createTransport } from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmailAdapter, signEmailWebhook } from '../../channels/email/index.js';
import { EmailSender, loadEmailWording } from '../../channels/email/send.js';
import { SmtpListener } from '../../channels/email/smtp-listener.js';
import type { OutboundMessage } from '../../src/core/message.js';
import { FakeClock } from '../../src/core/ports.js';
import { channelIdentities, conversations, messages } from '../../src/db/schema.js';
import { createThreadMatcher } from '../../src/inbox/thread-matcher.js';
import { writeReplies } from '../../src/inbox/write-replies.js';
import { backends } from '../support/db.js';
import { rawMail, startSink } from '../support/email.js';
import { call, testService } from '../support/service.js';

const FROM = 'kefu 客服 <support@kefu.example>';
const SECRET = 'hook-secret';

function customerTransport(port: number) {
  return createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
}

describe.each(backends())('email channel on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  let sink: Awaited<ReturnType<typeof startSink>>;
  let smtpPort: number;
  const clock = new FakeClock(new Date('2026-11-22T09:00:00Z'));

  beforeAll(async () => {
    sink = await startSink();
    service = await testService(backend, {
      clock,
      start: true,
      env: {
        HOST: '127.0.0.1',
        SMTP_LISTEN_PORT: '0',
        SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
        EMAIL_FROM: FROM,
        EMAIL_WEBHOOK_SECRET: SECRET,
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

  async function stored(externalId: string) {
    const [row] = await service.database.db
      .select({ message: messages, conversation: conversations })
      .from(messages)
      .innerJoin(conversations, eq(conversations.id, messages.conversationId))
      .where(and(eq(messages.channel, 'email'), eq(messages.externalId, externalId)));
    if (!row) throw new Error(`message ${externalId} not stored`);
    return row;
  }

  function repliesTo(messageId: string) {
    return sink.received.filter((m) => m.inReplyTo === `<${messageId}>`);
  }

  async function post(raw: string | Buffer, signature: string | null = signEmailWebhook(Buffer.from(raw), SECRET)) {
    const res = await service.app.request('/api/email/inbound', {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822', ...(signature ? { 'x-kefu-signature': signature } : {}) },
      body: typeof raw === 'string' ? raw : new Uint8Array(raw),
    });
    return { status: res.status, body: await res.json() };
  }

  it('takes a mail over SMTP, stores it before the 250, and answers with a threaded reply', async () => {
    const info = await customerTransport(smtpPort).sendMail({
      from: '王秀兰 <wang@example.com>',
      to: 'support@kefu.example',
      subject: '请问',
      messageId: '<smtp-1@example.com>',
      text: '你好，请问一下\n\n发自我的iPhone',
    });
    expect(info.response).toMatch(/^250/);
    // The 250 came after the commit: the message is there before anything else runs.
    const { message, conversation } = await stored('smtp-1@example.com');
    expect(message.text).toBe('你好，请问一下');
    expect(message.original).toContain('发自我的iPhone');

    await service.settle();
    const [reply] = repliesTo('smtp-1@example.com');
    if (!reply) throw new Error('no reply at the sink');
    expect(reply.subject).toBe('Re: 请问');
    expect(reply.to && !Array.isArray(reply.to) ? reply.to.value[0]?.address : null).toBe('wang@example.com');
    expect(reply.from?.value[0]?.address).toBe('support@kefu.example');
    expect(reply.references).toBe('<smtp-1@example.com>');
    expect(reply.messageId).toMatch(/^<kefu\.[0-9a-f-]{36}@kefu\.example>$/);
    expect(reply.replyTo?.value[0]?.address).toBe(`support+${conversation.replyToken}@kefu.example`);
    // Quick replies become numbered options with the locale's instruction.
    expect(reply.text).toMatch(/^1\. .+$/m);
    expect(reply.text).toMatch(/^2\. .+$/m);
    expect(reply.text).toContain('请直接回复数字 1、2');
    expect(reply.html).toContain('<ol><li>');
    expect(reply.headers.get('auto-submitted')).toBe('auto-replied');
    // The outbound Message-ID is remembered on the message, so replies to it find the conversation.
    const out = await service.database.db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, conversation.id), eq(messages.direction, 'out')));
    expect(out.map((m) => `<${m.externalId}>`)).toContain(reply.messageId);
  });

  it('greets a new email conversation in its first answer and lists the main menu in words, once', async () => {
    const greeting = '您好！我是客服小助手。我可以帮您办这些事：注册和账户帮助、申请退款、我要投诉、我的退款到哪了、订单和券码问题。';
    // A clear request: the answer is the registration guide, after the greeting and the menu in words.
    await post(rawMail({ from: 'sun@example.com', subject: '注册', id: 'greet-1@example.com', text: '我不会注册' }));
    await service.settle();
    const [first] = repliesTo('greet-1@example.com');
    if (!first?.messageId) throw new Error('no first answer');
    expect(first.text?.startsWith(`${greeting}\n我来一步一步教您`)).toBe(true);
    expect(first.text).toMatch(/^1\. 注册新账户$/m);
    // The next answer in the same conversation does not greet again.
    await post(rawMail({ from: 'sun@example.com', subject: 'Re: 注册', id: 'greet-2@example.com', text: '1', headers: [`In-Reply-To: ${first.messageId}`] }));
    await service.settle();
    const [second] = repliesTo('greet-2@example.com');
    expect(second?.text).toMatch(/^第 1 步（共 3 步）/);
    expect(second?.text).not.toContain('我是客服小助手');

    // An English mail that the main menu answers: the menu greets and lists the options, no second greeting.
    await post(rawMail({ from: 'amy@example.com', subject: 'Hello', id: 'greet-3@example.com', text: 'Hello there' }));
    await service.settle();
    const [menu] = repliesTo('greet-3@example.com');
    expect(menu?.text?.startsWith("Hello! I'm the support assistant. What can I help you with?")).toBe(true);
    expect(menu?.text).not.toContain('I can help you with:');
    expect(menu?.text).toMatch(/^2\. Request a refund$/m);
    // In English: a refund request greets with the menu in English words first.
    await post(rawMail({ from: 'ben@example.com', subject: 'Money', id: 'greet-4@example.com', text: 'I want a refund please' }));
    await service.settle();
    const [refund] = repliesTo('greet-4@example.com');
    expect(refund?.text?.startsWith("Hello! I'm the support assistant. I can help you with: Registration & account help, Request a refund, Make a complaint, Where is my refund?, Orders & coupons.\n")).toBe(true);
  });

  it('stores the same email delivered 3 times once and answers it once', async () => {
    const raw = rawMail({ from: 'li@example.com', subject: 'Coupon question', id: 'dup-1@example.com', text: 'Where is my coupon?' });
    const results = await Promise.all([post(raw), post(raw), post(raw)]);
    expect(results.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(new Set(results.map((r) => r.body.messageId)).size).toBe(1);
    expect(results.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    // And once more over SMTP, as a relay retrying would.
    await customerTransport(smtpPort).sendMail({ envelope: { from: 'li@example.com', to: ['support@kefu.example'] }, raw });
    await service.settle();
    const rows = await service.database.db.select().from(messages).where(eq(messages.externalId, 'dup-1@example.com'));
    expect(rows).toHaveLength(1);
    expect(repliesTo('dup-1@example.com')).toHaveLength(1);
  });

  it('maps a bare number to the quick reply it names', async () => {
    const first = await post(rawMail({ from: 'zhao@example.com', subject: '你好', id: 'num-1@example.com', text: '你好' }));
    expect(first.status).toBe(202);
    await service.settle();
    const [greeting] = repliesTo('num-1@example.com');
    if (!greeting?.messageId) throw new Error('no greeting');
    const answer = await post(
      rawMail({
        from: 'zhao@example.com',
        subject: 'Re: 你好',
        id: 'num-2@example.com',
        text: `2\n\n在 2026年11月22日 09:00，客服 <support@kefu.example> 写道：\n> 1. 注册和账户帮助\n> 2. 申请退款`,
        headers: [`In-Reply-To: ${greeting.messageId}`],
      }),
    );
    expect(answer.status).toBe(202);
    const { message } = await stored('num-2@example.com');
    expect(message.choice).toBe('refund');
    expect(message.text).toBe('申请退款');
  });

  it('joins a conversation by reply token and by In-Reply-To, even from another address', async () => {
    await post(rawMail({ from: 'chen@example.com', subject: 'Refund please', id: 'thr-1@example.com', text: 'I want a refund' }));
    await service.settle();
    const { conversation } = await stored('thr-1@example.com');
    const [ours] = repliesTo('thr-1@example.com');
    if (!ours?.messageId) throw new Error('no reply');

    await post(
      rawMail({
        from: 'chen.work@example.com',
        to: `kefu 客服 <support+${conversation.replyToken}@kefu.example>`,
        subject: 'RE: Refund please',
        id: 'thr-2@example.com',
        text: 'Writing from work',
      }),
    );
    expect((await stored('thr-2@example.com')).conversation.id).toBe(conversation.id);

    await post(
      rawMail({
        from: 'chen.home@example.com',
        subject: 'Fwd: something else entirely',
        id: 'thr-3@example.com',
        text: 'And from home',
        headers: [`In-Reply-To: ${ours.messageId}`, `References: <thr-1@example.com> ${ours.messageId}`],
      }),
    );
    expect((await stored('thr-3@example.com')).conversation.id).toBe(conversation.id);
  });

  it('joins by sender and subject only within the window', async () => {
    await post(rawMail({ from: 'sun@example.com', subject: 'Refund KF10000001', id: 'win-1@example.com', text: 'refund KF10000001' }));
    // A reply naming another order opens a linked case beside it: now the sender has two open conversations.
    const parent = (await stored('win-1@example.com')).conversation;
    await post(
      rawMail({
        from: 'sun@example.com',
        to: `support+${parent.replyToken}@kefu.example`,
        subject: '优惠券问题',
        id: 'win-2@example.com',
        text: '另外 KF10000002 的券用不了',
      }),
    );
    const child = (await stored('win-2@example.com')).conversation;
    expect(child.parentConversationId).toBe(parent.id);

    const matcher = createThreadMatcher(clock);
    const identity = { id: child.channelIdentityId, customerId: child.customerId };
    const inbound = {
      channel: 'email' as const,
      externalMessageId: 'win-3@example.com',
      sender: { externalId: 'sun@example.com', displayName: null, customerId: null, phone: null, email: null },
      text: 'still broken',
      choice: null,
      attachments: [],
      locale: null,
      thread: { conversationToken: null, inReplyTo: [], subject: '优惠券问题', messageSubject: '优惠券问题' },
      silent: false,
      channelMessageRef: null,
      editOf: null,
      original: null,
      receivedAt: null,
      identity: { level: 'claimed' as const, basis: 'from_header', replyTokenProves: true, remember: false },
    };
    const within = await service.database.db.transaction((tx) => matcher(tx, inbound, identity));
    expect(within?.id).toBe(child.id);
    clock.advance(8 * 24 * 3600_000);
    try {
      // Past the window the old case is not joined by subject any more.
      const after = await service.database.db.transaction((tx) => matcher(tx, inbound, identity));
      expect(after?.id).not.toBe(child.id);
    } finally {
      clock.advance(-8 * 24 * 3600_000);
    }
  });

  it('opens a conversation per topic: new subjects without reply headers are not glued onto the open one', async () => {
    const subjects = ['退款申请', '券码用不了', '=?utf-7?Q?Fr+APY-sche?=', '发票问题'];
    for (const [i, subject] of subjects.entries()) {
      await customerTransport(smtpPort).sendMail({
        envelope: { from: 'topic@example.com', to: ['support@kefu.example'] },
        raw: rawMail({ from: 'topic@example.com', subject, id: `topic-${i}@example.com`, text: `第 ${i + 1} 件事` }),
      });
    }
    const rows = await Promise.all(subjects.map((_, i) => stored(`topic-${i}@example.com`)));
    const [first, ...rest] = rows;
    expect(new Set(rows.map((r) => r.conversation.id)).size).toBe(4);
    // Each later topic is linked to the sender's earlier open case for agents.
    for (const r of rest) expect(r.conversation.parentConversationId).toBe(first?.conversation.id);
    // Every message keeps its own decoded subject.
    expect(rows.map((r) => r.message.subject)).toEqual(['退款申请', '券码用不了', 'Frösche', '发票问题']);
    // A reply on a topic's thread still joins that topic.
    await post(rawMail({ from: 'topic@example.com', subject: 'Re: 券码用不了', id: 'topic-reply@example.com', text: '还是不行' }));
    expect((await stored('topic-reply@example.com')).conversation.id).toBe(rows[1]?.conversation.id);
  });

  it('starts a new linked case when a reply names a different order number', async () => {
    await post(rawMail({ from: 'qian@example.com', subject: '退款 KF20000001', id: 'ord-1@example.com', text: '订单 KF20000001 要退款' }));
    await service.settle();
    const parent = (await stored('ord-1@example.com')).conversation;
    const [ours] = repliesTo('ord-1@example.com');
    if (!ours?.messageId) throw new Error('no reply');

    await post(
      rawMail({
        from: 'qian@example.com',
        subject: 'Re: 退款 KF20000001',
        id: 'ord-2@example.com',
        text: '还是这个订单，请快点\n\n> 订单 KF20000001 要退款',
        headers: [`In-Reply-To: ${ours.messageId}`],
      }),
    );
    expect((await stored('ord-2@example.com')).conversation.id).toBe(parent.id);

    await post(
      rawMail({
        from: 'qian@example.com',
        subject: 'Re: 退款 KF20000001',
        id: 'ord-3@example.com',
        text: '另一个订单 KF20000002 也要退',
        headers: [`In-Reply-To: ${ours.messageId}`],
      }),
    );
    const linked = (await stored('ord-3@example.com')).conversation;
    expect(linked.id).not.toBe(parent.id);
    expect(linked.parentConversationId).toBe(parent.id);
    await service.settle();
    const [linkedReply] = repliesTo('ord-3@example.com');
    expect(linkedReply?.replyTo?.value[0]?.address).toBe(`support+${linked.replyToken}@kefu.example`);
  });

  it('delivers an agent reply as a threaded reply to the last customer mail', async () => {
    await post(rawMail({ from: 'zhou@example.com', subject: '投诉', id: 'agent-1@example.com', text: '店家不让用券' }));
    await service.settle();
    const { conversation } = await stored('agent-1@example.com');
    await service.database.db.transaction((tx) =>
      writeReplies(tx, conversation, [{ author: 'agent', text: '您好，我是客服小李，已经联系店家。' }], clock.now()),
    );
    await service.settle();
    const agentMail = sink.received.find((m) => m.text?.includes('客服小李'));
    if (!agentMail) throw new Error('agent reply not delivered');
    expect(agentMail.subject).toBe('Re: 投诉');
    expect(agentMail.inReplyTo).toBe('<agent-1@example.com>');
    expect(agentMail.references).toBe('<agent-1@example.com>');
    expect(agentMail.replyTo?.value[0]?.address).toBe(`support+${conversation.replyToken}@kefu.example`);
  });

  it('records auto-replies and bounces without answering; a bounce marks the address unreachable', async () => {
    await post(rawMail({ from: 'wang.bounce@example.com', subject: 'hello', id: 'bnc-0@example.com', text: 'hello' }));
    await service.settle();
    const before = sink.received.length;

    const ooo = await post(
      rawMail({ from: 'wang.bounce@example.com', subject: 'Out of Office: hello', id: 'ooo-1@example.com', text: 'I am away', headers: ['Auto-Submitted: auto-replied'] }),
    );
    expect(ooo.status).toBe(202);
    const dsn = readFileSync(join(import.meta.dirname, '../fixtures/email-kefu/dsn-user-unknown.eml'));
    await customerTransport(smtpPort).sendMail({ envelope: { from: '', to: ['support@kefu.example'] }, raw: dsn });
    await service.settle();

    expect(sink.received.length).toBe(before);
    const autoReply = await stored('ooo-1@example.com');
    expect(autoReply.message.processedAt).not.toBeNull();
    const bounce = await stored('20261122090000.AAAA@mx.example.com');
    expect(bounce.message.processedAt).not.toBeNull();
    const [identity] = await service.database.db
      .select()
      .from(channelIdentities)
      .where(and(eq(channelIdentities.channel, 'email'), eq(channelIdentities.externalId, 'wang.bounce@example.com')));
    expect(identity?.unreachable).toBe(true);
    expect(identity?.unreachableReason).toContain('5.1.1');
  });

  it('guards the webhook: signature, content type and size', async () => {
    const raw = rawMail({ from: 'a@example.com', subject: 'x', id: 'hook-1@example.com', text: 'x' });
    const missing = await post(raw, null);
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('unauthorized');
    const wrong = await post(raw, signEmailWebhook(Buffer.from(raw), 'other-secret'));
    expect(wrong.status).toBe(401);

    const json = await call(service, 'POST', '/api/email/inbound', { body: { raw } });
    expect(json.status).toBe(400);

    // Bigger than the JSON API's 64 KiB, well within the email limit.
    const big = rawMail({ from: 'a@example.com', subject: 'big', id: 'hook-big@example.com', text: `${'好'.repeat(60_000)}` });
    expect((await post(big)).status).toBe(202);

    const huge = Buffer.alloc(10 * 1024 * 1024 + 10, 'a');
    const tooBig = await post(huge);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe('payload_too_large');
    // The JSON API keeps its own limit.
    const webchat = await call(service, 'POST', '/api/webchat/sessions', { rawBody: `{"locale":"en","x":"${'a'.repeat(70_000)}"}` });
    expect(webchat.status).toBe(413);
  });
});

describe('email webhook when no secret is set', () => {
  it('answers 404', async () => {
    const service = await testService(backends()[0] ?? 'pglite', { seed: false, env: { SMTP_URL: 'smtp://127.0.0.1:9' } });
    try {
      const res = await call(service, 'POST', '/api/email/inbound', { rawBody: 'From: a@b.c\r\n\r\nhi', headers: { 'content-type': 'message/rfc822' } });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    } finally {
      await service.close();
    }
  });
});

describe('SMTP listener and sender edge cases', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  it('refuses an over-size message with 552 and a storage failure with 451 so the sender retries', async () => {
    let fail = false;
    const got: Buffer[] = [];
    const listener = new SmtpListener({
      port: 0,
      host: '127.0.0.1',
      maxBytes: 2000,
      onMessage: async (raw) => {
        if (fail) throw new Error('database down');
        got.push(raw);
      },
    });
    await listener.start();
    closers.push(() => listener.stop());
    const transport = customerTransport(listener.port ?? 0);
    const envelope = { from: 'a@example.com', to: ['support@kefu.example'] };
    await expect(transport.sendMail({ envelope, raw: `Subject: big\r\n\r\n${'x'.repeat(5000)}` })).rejects.toMatchObject({ responseCode: 552 });
    fail = true;
    await expect(transport.sendMail({ envelope, raw: 'Subject: hi\r\n\r\nhello' })).rejects.toMatchObject({ responseCode: 451 });
    fail = false;
    await transport.sendMail({ envelope, raw: 'Subject: hi\r\n\r\nhello' });
    expect(got).toHaveLength(1);
  });

  it('treats 4xx as retryable and 550 as permanent and unreachable', async () => {
    const sink = await startSink({ 'gone@example.com': 550, 'busy@example.com': 451 });
    closers.push(sink.close);
    const sender = new EmailSender({ smtpUrl: `smtp://127.0.0.1:${sink.port}`, from: FROM, wording: loadEmailWording() });
    closers.push(async () => sender.close());
    const message = (to: string): OutboundMessage => ({
      messageId: '00000000-0000-4000-8000-000000000001',
      conversationId: 'c',
      channel: 'email',
      recipient: { channelIdentityId: 'i', externalId: to, displayName: null },
      author: 'bot',
      text: 'hi',
      quickReplies: [],
      locale: 'en',
      thread: {},
      createdAt: new Date(),
    });
    expect(await sender.send(message('gone@example.com'))).toMatchObject({ ok: false, retryable: false, unreachable: true });
    expect(await sender.send(message('busy@example.com'))).toMatchObject({ ok: false, retryable: true });
    const closed = new EmailSender({ smtpUrl: 'smtp://127.0.0.1:9', from: FROM, wording: loadEmailWording() });
    closers.push(async () => closed.close());
    expect(await closed.send(message('a@example.com'))).toMatchObject({ ok: false, retryable: true });
    expect(await sender.send(message('ok@example.com'))).toMatchObject({ ok: true, externalId: 'kefu.00000000-0000-4000-8000-000000000001@kefu.example' });
    expect(sink.received.at(-1)?.subject).toBe('Your support request');
  });
});
