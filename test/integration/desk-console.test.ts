import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/ports.js';
import { agents, complaints, customers, messages } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { loginAs } from '../support/console.js';
import { backends } from '../support/db.js';
import { wangComplainsAfterRefund } from '../support/desk.js';
import { call, testService } from '../support/service.js';

const SECRET = 'desk-console-secret';

/** The HTML of one page section (between its opening tag and the next `</section>`). */
function section(html: string, id: string): string {
  const start = html.indexOf(`id="${id}"`);
  expect(start, `section #${id}`).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf('</section>', start));
}

describe.each(backends())("the agent's desk: search, customer page, language, one number on %s", (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  let agent: Awaited<ReturnType<typeof loginAs>>;
  let manager: Awaited<ReturnType<typeof loginAs>>;
  let wang: Awaited<ReturnType<typeof wangComplainsAfterRefund>>;
  let wuFang: { id: string; phone: string | null };
  const page = async (path: string, token: string) => {
    const res = await service.app.request(path, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, html: await res.text(), type: res.headers.get('content-type') ?? '' };
  };

  beforeAll(async () => {
    service = await testService(backend, { env: { WEBCHAT_IDENTITY_SECRET: SECRET }, clock: new FakeClock(new Date('2026-11-22T09:00:00Z')) });
    agent = await loginAs(service, 'agent1@kefu.demo');
    manager = await loginAs(service, 'manager@kefu.demo');
    wang = await wangComplainsAfterRefund(service, SECRET);
    const [row] = await service.database.db.select({ id: customers.id, phone: customers.phone }).from(customers).where(eq(customers.name, '吴芳'));
    wuFang = row!;
  }, 180_000);
  afterAll(async () => {
    await service?.close();
  });

  it('finds 吴芳 by phone although she never had a case, and opens her customer page', async () => {
    const res = await call(service, 'GET', `/api/console/search?q=${wuFang.phone}`, { token: agent.token });
    expect(res.status).toBe(200);
    expect(res.body.cases).toEqual([]);
    expect(res.body.customers.map((c: { name: string }) => c.name)).toEqual(['吴芳']);
    const results = await page(`/console/search?q=${wuFang.phone}`, agent.token);
    expect(results.html).toContain('顾客');
    expect(results.html).toContain(`/console/customers/${wuFang.id}`);
    const file = await page(`/console/customers/${wuFang.id}`, agent.token);
    expect(file.status).toBe(200);
    expect(file.html).toContain('吴芳');
    expect(file.html).toContain('KF19051068');
    expect(file.html).toContain('没有可以联系的渠道');
    // Nobody to write to: opening a conversation is refused, not half done.
    const start = await call(service, 'POST', `/api/console/customers/${wuFang.id}/conversations`, { token: agent.token, body: { text: '您好' } });
    expect(start.status).toBe(409);
  });

  it('finds the complaint by the one number the consumer was told, in every group it belongs to', async () => {
    const [complaint] = await service.database.db.select().from(complaints).where(eq(complaints.conversationId, wang.handoff.conversationId));
    const number = complaint!.ticketNumber;
    expect(wang.handoff.ticketNumber).toBe(number);
    const res = await call(service, 'GET', `/api/console/search?q=${number.toLowerCase()}`, { token: agent.token });
    expect(res.body.complaints.map((c: { ticketNumber: string }) => c.ticketNumber)).toEqual([number]);
    expect(res.body.tickets.map((t: { ticketNumber: string }) => t.ticketNumber)).toEqual([number]);
    expect(res.body.cases.map((c: { id: string }) => c.id)).toContain(wang.handoff.conversationId);
    const file = await call(service, 'GET', `/api/console/customers/${DEMO_SENIOR_CUSTOMER_ID}`, { token: agent.token });
    const listed = file.body.conversations.find((c: { id: string }) => c.id === wang.handoff.conversationId);
    expect(listed.ticketNumber).toBe(number);
    expect(listed.messageCount).toBeGreaterThan(10);
    expect(file.body.complaints.map((c: { complaint: { ticketNumber: string } }) => c.complaint.ticketNumber)).toEqual([number]);
    const html = (await page(`/console/search?q=${number}`, agent.token)).html;
    expect(html).toContain('投诉');
    expect(html).toContain('店家不让用券');
    // Bot-only conversations are found too: by what was written in them.
    const words = await call(service, 'GET', `/api/console/search?q=${encodeURIComponent('公交白跑')}`, { token: agent.token });
    expect(words.body.conversations.map((c: { id: string }) => c.id)).toContain(wang.handoff.conversationId);
  });

  it('shows the case in Chinese by default with readable fields, and remembers English per agent', async () => {
    const zh = await page(`/console?c=${wang.handoff.conversationId}`, agent.token);
    expect(zh.html).toContain('<html lang="zh-CN">');
    expect(zh.html).toContain('待接');
    const packet = section(zh.html, 'packet');
    expect(packet).toContain('投诉内容');
    expect(packet).toContain('KF53738838');
    expect(packet).toContain('静心堂足道养生');
    expect(packet).toContain('店家不让用券');
    expect(packet).not.toContain('{&quot;');
    expect(packet).not.toContain('{"');
    const shown = packet.replace(/<[^>]+>/g, ' ');
    expect(shown).not.toMatch(/coupon_refused|want_refund|wantedOutcome|orderRef|"orders"/);
    expect(shown).toMatch(/\d{4}\/\d{1,2}\/\d{1,2} \d{2}:\d{2}/);

    const set = await call(service, 'POST', '/api/console/me/locale', { token: agent.token, body: { locale: 'en' } });
    expect(set.status).toBe(200);
    const [row] = await service.database.db.select({ locale: agents.locale }).from(agents).where(eq(agents.id, agent.agent.id));
    expect(row?.locale).toBe('en');
    const en = await page(`/console?c=${wang.handoff.conversationId}`, agent.token);
    expect(en.html).toContain('<html lang="en">');
    expect(section(en.html, 'packet')).toContain('The complaint');
    expect(section(en.html, 'packet')).toContain('coupon refused');
    expect(en.html).toMatch(/[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2}/);
    // Another agent is not affected.
    const other = await loginAs(service, 'agent2@kefu.demo');
    expect((await page('/console', other.token)).html).toContain('待接');
    expect((await call(service, 'POST', '/api/console/me/locale', { token: agent.token, body: { locale: 'xx' } })).status).toBe(422);
    await call(service, 'POST', '/api/console/me/locale', { token: agent.token, body: { locale: 'zh-Hans' } });
  });

  it("counts the merchant's complaints the same way in the packet and on the dashboard", async () => {
    const detail = await call(service, 'GET', `/api/console/conversations/${wang.handoff.conversationId}`, { token: agent.token });
    const spa = detail.body.packet.orders.find((o: { orderNumber: string }) => o.orderNumber === 'KF53738838');
    const metrics = await call(service, 'GET', '/api/console/metrics', { token: manager.token });
    const row = metrics.body.merchants.find((m: { id: string }) => m.id === spa.merchant.id);
    expect(spa.merchant.complaintCount).toBeGreaterThanOrEqual(1);
    expect(row.complaints).toBe(spa.merchant.complaintCount);
  });

  it('canned replies: managers write them in three languages, agents get them filled in for the case', async () => {
    const body = {
      title: '投诉已联系商家',
      body: {
        'zh-Hans': '{{customer.name}}您好，关于订单 {{order.number}}（编号 {{ticket.number}}），我们已联系商家。',
        'zh-Hant': '{{customer.name}}您好，關於訂單 {{order.number}}（編號 {{ticket.number}}），我們已聯絡商家。',
        en: 'Hello {{customer.name}}, about order {{order.number}} ({{ticket.number}}): we contacted the shop.',
      },
    };
    expect((await call(service, 'POST', '/api/console/macros', { token: agent.token, body })).status).toBe(403);
    expect((await call(service, 'POST', '/api/console/macros', { token: manager.token, body: { title: 'x', body: { en: 'only one' } } })).status).toBe(422);
    const created = await call(service, 'POST', '/api/console/macros', { token: manager.token, body });
    expect(created.status).toBe(201);
    const filled = await call(service, 'GET', `/api/console/conversations/${wang.handoff.conversationId}/macros`, { token: agent.token });
    expect(filled.body.macros).toEqual([{ id: created.body.id, title: '投诉已联系商家', text: `王秀兰您好，关于订单 KF53738838（编号 ${wang.handoff.ticketNumber}），我们已联系商家。` }]);
    const html = (await page(`/console?c=${wang.handoff.conversationId}`, agent.token)).html;
    expect(html).toContain('id="macro-pick"');
    expect((await page('/console/macros', manager.token)).html).toContain('投诉已联系商家');
    expect((await call(service, 'DELETE', `/api/console/macros/${created.body.id}`, { token: manager.token })).status).toBe(200);
    expect((await call(service, 'GET', '/api/console/macros', { token: agent.token })).body.macros).toEqual([]);
  });

  it('exports every dashboard table as CSV', async () => {
    for (const table of ['overview', 'ages', 'merchants', 'agents']) {
      const res = await page(`/console/dashboard.csv?table=${table}`, manager.token);
      expect(res.status, table).toBe(200);
      expect(res.type).toContain('text/csv');
      expect(res.html.split('\r\n').length, table).toBeGreaterThan(1);
    }
    expect((await page('/console/dashboard.csv?table=merchants', manager.token)).html).toContain('静心堂足道养生');
    expect((await page('/console/dashboard.csv?table=nope', manager.token)).status).toBe(400);
    expect((await page('/console/dashboard.csv?table=agents', agent.token)).status).toBe(403);
  });

  it('an agent opens a new conversation to 王秀兰 on her web chat, through the outbox', async () => {
    const text = '王阿姨您好，我是客服李明，关于静心堂的投诉给您回个电话可以吗？';
    const start = () => call(service, 'POST', `/api/console/customers/${DEMO_SENIOR_CUSTOMER_ID}/conversations`, { token: agent.token, body: { text } });
    // While her complaint is open, the agent is sent to answer in the case itself.
    const busy = await start();
    expect(busy.status).toBe(409);
    expect(busy.body.error.details.conversationId).toBe(wang.handoff.conversationId);
    const id = wang.handoff.conversationId;
    expect((await call(service, 'POST', `/api/console/conversations/${id}/claim`, { token: agent.token })).status).toBe(200);
    expect((await call(service, 'POST', `/api/console/conversations/${id}/resolve`, { token: agent.token, body: { code: 'merchant_contacted' } })).status).toBe(200);
    const res = await start();
    expect(res.status).toBe(201);
    expect(res.body.channel).toBe('webchat');
    await service.settle();
    const [sent] = await service.database.db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, res.body.conversationId), eq(messages.author, 'agent')));
    expect(sent?.deliveryStatus).toBe('sent');
    const mine = await call(service, 'GET', '/api/console/queue?view=mine', { token: agent.token });
    expect(mine.body.cases.map((c: { id: string }) => c.id)).toContain(res.body.conversationId);
  });
});
