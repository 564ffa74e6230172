import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCustomerId } from '../../channels/webchat/index.js';
import { signMerchantLink } from '../../src/aftersales/merchant-link.js';
import { FakeClock } from '../../src/core/ports.js';
import { auditLog, complaints, merchants, refunds } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { backends } from '../support/db.js';
import { startSink } from '../support/email.js';
import { IDENTITY_SECRET, loginAs } from '../support/console.js';
import { call, testService } from '../support/service.js';

type WebMessage = { id: string; author: string; text: string; quickReplies?: { id: string; label: string }[] };

// The smallest valid PNG (1×1 transparent pixel), as a merchant's phone might send.
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6300010000050001' + '0d0a2db40000000049454e44ae426082', 'hex');

// Acceptance of the after-sales loop: complaint in the web chat → merchant email with a signed link →
// the merchant answers → the agent sees it and decides a partial refund → the consumer is told, once each.
describe.each(backends())('after-sales: the merchant answers a complaint on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  let sink: Awaited<ReturnType<typeof startSink>>;
  const clock = new FakeClock(new Date('2026-11-22T09:00:00Z'));

  beforeAll(async () => {
    sink = await startSink();
    service = await testService(backend, {
      clock,
      env: {
        WEBCHAT_IDENTITY_SECRET: IDENTITY_SECRET,
        SMTP_URL: `smtp://127.0.0.1:${sink.port}?ignoreTLS=true`,
        EMAIL_FROM: 'kefu <support@kefu.example>',
        MERCHANT_LINK_SECRET: 'merchant-secret',
        PUBLIC_URL: 'https://kefu.example',
        SESSION_TTL_HOURS: '1000',
      },
    });
  });
  afterAll(async () => {
    await service?.close();
    await sink?.close();
  });

  let token = '';
  let cursor: string | null = null;
  let n = 0;
  const seen: WebMessage[] = [];
  const read = async () => {
    const res = await call(service, 'GET', `/api/webchat/messages${cursor ? `?after=${cursor}` : ''}`, { token });
    expect(res.status).toBe(200);
    cursor = res.body.cursor;
    seen.push(...res.body.messages);
    return res.body.messages as WebMessage[];
  };
  const post = async (body: { text: string } | { choice: string }) => {
    n += 1;
    const res = await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: `c-${n}`, ...body } });
    expect(res.status).toBe(202);
    await service.settle();
    return (await read()).filter((m) => m.author === 'bot');
  };
  const press = async (last: WebMessage[], label: string) => {
    const option = (last.at(-1)?.quickReplies ?? []).find((q) => q.label.includes(label));
    expect(option, `button ${label} in ${JSON.stringify(last.at(-1)?.quickReplies)}`).toBeDefined();
    return post({ choice: option?.id ?? '' });
  };

  let complaintId = '';
  let conversationId = '';
  let merchantId = '';
  let link = '';

  it('a complaint in the web chat mails the merchant a signed, expiring response link with the consumer masked', async () => {
    const s = await call(service, 'POST', '/api/webchat/sessions', { body: { customerId: DEMO_SENIOR_CUSTOMER_ID, signature: signCustomerId(DEMO_SENIOR_CUSTOMER_ID, IDENTITY_SECRET) } });
    token = s.body.token;
    let bot = await post({ text: '我要投诉' });
    bot = await press(bot, '服务态度');
    const order = bot.at(-1)?.quickReplies?.[0];
    expect(order).toBeDefined();
    bot = await post({ choice: order?.id ?? '' });
    bot = await post({ text: '服务员态度很差，上菜时把盘子摔在桌上，还说团购的客人事多。' });
    bot = await post({ text: '昨天晚上七点' });
    bot = await press(bot, '跳过');
    bot = await press(bot, '退款');
    expect(bot.at(-1)?.text).toMatch(/投诉单号 C/);

    const [row] = await service.database.db.select().from(complaints).where(eq(complaints.customerId, DEMO_SENIOR_CUSTOMER_ID));
    expect(row?.merchantDueAt?.toISOString()).toBe('2026-11-23T09:00:00.000Z');
    complaintId = row!.id;
    conversationId = row!.conversationId!;
    merchantId = row!.merchantId!;

    expect(await service.aftersales.mail?.runOnce()).toBe(1);
    expect(sink.received).toHaveLength(1);
    const mail = sink.received[0]!;
    expect(mail.to && 'text' in mail.to ? mail.to.text : '').toMatch(/@merchants\.kefu\.demo/);
    expect(mail.subject).toContain(row!.ticketNumber);
    const found = /https:\/\/kefu\.example(\/merchant\/complaints\/\S+)/.exec(mail.text ?? '');
    expect(found).not.toBeNull();
    link = found![1]!;
    // A second run sends nothing more: the notice is queued exactly once.
    expect(await service.aftersales.mail?.runOnce()).toBe(0);

    const page = await call(service, 'GET', link);
    expect(page.status).toBe(200);
    expect(page.body).toContain('盘子摔在桌上');
    expect(page.body).toContain('服务态度');
    expect(page.body).not.toContain('王秀兰');
    expect(page.body).toContain('王**');
  });

  it("merchant A's link cannot read merchant B's complaint (403); a tampered or expired link is refused", async () => {
    const db = service.database.db;
    const otherMerchant = (await db.select({ id: merchants.id }).from(merchants)).find((m) => m.id !== merchantId)!;
    const [b] = await db
      .insert(complaints)
      .values({ ticketNumber: 'C-OTHER-1', customerId: DEMO_SENIOR_CUSTOMER_ID, merchantId: otherMerchant.id, category: 'other', description: '另一家的投诉内容', wantedOutcome: 'apology', createdAt: clock.now() })
      .returning({ id: complaints.id });
    const bId = b!.id;
    // A's own token on B's address.
    const aToken = new URL(`https://x${link}`).searchParams.get('t') ?? '';
    const cross = await call(service, 'GET', `/merchant/complaints/${bId}?t=${encodeURIComponent(aToken)}`);
    expect(cross.status).toBe(403);
    expect(cross.body).not.toContain('另一家的投诉内容');
    // A correctly signed token naming merchant A for complaint B.
    const forged = signMerchantLink('merchant-secret', { complaintId: bId, merchantId, expiresAt: new Date('2026-11-30T00:00:00Z') });
    const scoped = await call(service, 'GET', `/merchant/complaints/${bId}?t=${encodeURIComponent(forged)}`);
    expect(scoped.status).toBe(403);
    expect(scoped.body).not.toContain('另一家的投诉内容');
    const tampered = await call(service, 'GET', link.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A')));
    expect(tampered.status).toBe(403);
    const expired = signMerchantLink('merchant-secret', { complaintId, merchantId, expiresAt: new Date('2026-11-22T08:00:00Z') });
    const late = await call(service, 'GET', `/merchant/complaints/${complaintId}?t=${encodeURIComponent(expired)}`);
    expect(late.status).toBe(410);
    expect(late.body).toContain('过期');
  });

  it('the merchant answers through the link with a statement, a partial refund and a photo; a bad photo is refused politely', async () => {
    clock.advance(2 * 3_600_000);
    const bad = new FormData();
    bad.set('statement', '当晚客人很多，服务员态度确实不好，我们已经批评教育。');
    bad.set('remedy', 'partial_refund');
    bad.set('amount', '10');
    bad.append('photos', new Blob([Buffer.from('not an image at all')], { type: 'image/png' }), 'fake.png');
    const refused = await service.app.request(link, { method: 'POST', body: bad });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain('不是 JPEG、PNG、GIF 或 WebP 图片');

    const form = new FormData();
    form.set('statement', '当晚客人很多，服务员态度确实不好，我们已经批评教育。');
    form.set('remedy', 'partial_refund');
    form.set('amount', '10');
    form.append('photos', new Blob([PNG], { type: 'application/octet-stream' }), 'receipt.png');
    const res = await service.app.request(link, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('您的回复已经收到');
    // A second submit does not replace the answer.
    const again = await service.app.request(link, { method: 'POST', body: form });
    expect(again.status).toBe(409);
  });

  it('the agent sees the answer in the case and resolves with a partial refund; the consumer hears "merchant responded" and "refund paid" once each', async () => {
    const agent = await loginAs(service, 'agent1@kefu.demo');
    expect((await call(service, 'POST', `/api/console/conversations/${conversationId}/claim`, { token: agent.token })).status).toBe(200);
    const view = await call(service, 'GET', `/api/console/conversations/${conversationId}/aftersales`, { token: agent.token });
    expect(view.status).toBe(200);
    const complaint = view.body.complaints[0];
    expect(complaint.answer).toMatchObject({ remedy: 'partial_refund', amountCents: 1000, late: false });
    expect(complaint.answer.statement).toContain('批评教育');
    expect(complaint.answer.photos).toHaveLength(1);
    const photo = await service.app.request(complaint.answer.photos[0].url, { headers: { authorization: `Bearer ${agent.token}` } });
    expect(photo.status).toBe(200);
    expect(photo.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await photo.arrayBuffer()).equals(PNG)).toBe(true);
    const page = await call(service, 'GET', `/console?view=mine&c=${conversationId}`, { token: agent.token });
    expect(page.body).toContain('批评教育');

    const decided = await call(service, 'POST', `/api/console/complaints/${complaintId}/decision`, { token: agent.token, body: { decision: 'partial_refund', amountCents: 1000 } });
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);
    const twice = await call(service, 'POST', `/api/console/complaints/${complaintId}/decision`, { token: agent.token, body: { decision: 'partial_refund', amountCents: 1000 } });
    expect(twice.status).toBe(409);
    const resolved = await call(service, 'POST', `/api/console/conversations/${conversationId}/resolve`, { token: agent.token, body: { code: 'refunded' } });
    expect(resolved.status).toBe(200);

    // The payment status check is a durable timer; running it (and everything else due) twice tells "paid" once.
    await service.timers.runOnce();
    await service.settle();
    await service.timers.runOnce();
    await service.settle();
    await read();

    const [refund] = await service.database.db.select().from(refunds).where(eq(refunds.id, decided.body.refundId));
    expect(refund).toMatchObject({ status: 'paid', amountCents: 1000, policy: 'complaint:partial_refund' });
    const texts = seen.map((m) => m.text);
    expect(texts.filter((t) => t.includes('已经回复了您的投诉'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('退款已到账') && t.includes('¥10.00'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('部分退款 ¥10.00'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('正在处理您的问题'))).toHaveLength(1);
    const audit = await service.database.db.select({ action: auditLog.action }).from(auditLog).where(eq(auditLog.subjectId, complaintId));
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['complaint.merchant_notified', 'complaint.merchant_responded', 'complaint.decide']));
  });

  it('compensation from the guarantee fund: up to the cap paid at once, above it only after a manager approves; kept in a ledger', async () => {
    const agent = await loginAs(service, 'agent1@kefu.demo');
    const manager = await loginAs(service, 'manager@kefu.demo');
    const small = await call(service, 'POST', `/api/console/complaints/${complaintId}/compensation`, { token: agent.token, body: { amountCents: 2000, reason: '耽误了顾客的纪念日晚餐' } });
    expect(small.status, JSON.stringify(small.body)).toBe(201);
    expect(small.body.status).toBe('paid');
    const big = await call(service, 'POST', `/api/console/complaints/${complaintId}/compensation`, { token: agent.token, body: { amountCents: 30000, reason: '顾客因此住院' } });
    expect(big.body.status).toBe('proposed');
    expect((await call(service, 'POST', `/api/console/compensations/${big.body.id}/decision`, { token: agent.token, body: { decision: 'approve' } })).status).toBe(403);
    const approved = await call(service, 'POST', `/api/console/compensations/${big.body.id}/decision`, { token: manager.token, body: { decision: 'approve' } });
    expect(approved.body.status).toBe('paid');
    expect((await call(service, 'POST', `/api/console/compensations/${big.body.id}/decision`, { token: manager.token, body: { decision: 'approve' } })).status).toBe(409);
    const byMerchant = await call(service, 'GET', `/api/console/compensations?merchantId=${merchantId}`, { token: manager.token });
    expect(byMerchant.body.totals.paidCents).toBe(32000);
    const byCustomer = await call(service, 'GET', `/api/console/compensations?customerId=${DEMO_SENIOR_CUSTOMER_ID}`, { token: manager.token });
    expect(byCustomer.body.entries).toHaveLength(2);
    await service.settle();
    await read();
    expect(seen.filter((m) => m.text.includes('平台保障金的赔偿'))).toHaveLength(2);
    const record = await call(service, 'GET', `/api/console/merchants/${merchantId}`, { token: manager.token });
    expect(record.body.merchant.payoutsCents).toBe(32000);
  });

  it('no answer by the deadline is recorded against the merchant, after one reminder at 80 %', async () => {
    const db = service.database.db;
    const start = clock.now();
    let bot = await post({ text: '我要投诉' });
    bot = await press(bot, '额外收费');
    bot = await post({ choice: bot.at(-1)?.quickReplies?.[0]?.id ?? '' });
    bot = await post({ text: '结账时又多收了二十元茶位费，团购页面上没有写。' });
    bot = await post({ text: '今天中午' });
    bot = await press(bot, '跳过');
    bot = await press(bot, '只是反映一下');
    const rows = await db.select().from(complaints).where(eq(complaints.category, 'hidden_charges'));
    const c = rows[0]!;
    sink.received.length = 0;
    await service.aftersales.mail?.runOnce();
    expect(sink.received).toHaveLength(1);
    clock.set(new Date(start.getTime() + 0.8 * 24 * 3_600_000 + 1000));
    await service.timers.runOnce();
    await service.aftersales.mail?.runOnce();
    expect(sink.received.map((m) => m.subject)).toEqual([expect.stringContaining(c.ticketNumber), expect.stringMatching(/^提醒/)]);
    clock.set(new Date(start.getTime() + 24 * 3_600_000 + 1000));
    await service.timers.runOnce();
    await service.timers.runOnce();
    await service.aftersales.mail?.runOnce();
    expect(sink.received).toHaveLength(2);
    const [after] = await db.select().from(complaints).where(eq(complaints.id, c.id));
    expect(after?.merchantMissedAt).not.toBeNull();
    const manager = await loginAs(service, 'manager@kefu.demo');
    const record = await call(service, 'GET', `/api/console/merchants/${c.merchantId}`, { token: manager.token });
    expect(record.body.merchant.missedDeadlines).toBeGreaterThanOrEqual(1);
  });
});
