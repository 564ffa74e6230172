import { eq } from 'drizzle-orm';
import { HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/ports.js';
import { complaints, handoffs } from '../../src/db/schema.js';
import { backends } from '../support/db.js';
import { WANG_DESCRIPTION, WANG_WHEN, wangComplainsAfterRefund } from '../support/desk.js';
import { completionBody, completionsHandler, OPENAI_BASE, onUnhandled, thirdPartyServer } from '../support/llm.js';
import { loginAs } from '../support/console.js';
import { call, testService } from '../support/service.js';

const SECRET = 'desk-secret';
const server = thirdPartyServer();
beforeAll(() => server.listen(onUnhandled));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

// The scenario: after refunding KF84144382 (金玉满堂), 王秀兰 complains about KF53738838
// (静心堂, coupon refused). The summary must be about the complaint, not her latest order or last button.
describe.each(backends())('the summary is about the case on %s', (backend) => {
  it('rule-based: the packet and summary lead with KF53738838, 静心堂 and her own description', async () => {
    const service = await testService(backend, { env: { WEBCHAT_IDENTITY_SECRET: SECRET }, clock: new FakeClock(new Date('2026-11-22T09:00:00Z')) });
    try {
      const { handoff, told } = await wangComplainsAfterRefund(service, SECRET);
      const lines = handoff.summary.split('\n');
      expect(lines[1]).toContain('KF53738838');
      expect(lines[1]).toContain('静心堂足道养生');
      expect(lines[1]).toContain('店家不让用券');
      expect(handoff.summary).toContain(WANG_DESCRIPTION);
      expect(handoff.summary).toContain(WANG_WHEN);
      expect(handoff.summary).not.toMatch(/“退款”/);
      expect(handoff.summary).not.toMatch(/最近订单 KF84144382/);
      // The earlier refunded order is there, marked as not this case.
      expect(lines.find((l) => l.includes('KF84144382'))).toMatch(/其他订单/);

      // One number: the complaint number the consumer was told is the handoff's ticket.
      const [complaint] = await service.database.db.select().from(complaints).where(eq(complaints.conversationId, handoff.conversationId));
      expect(told).toContain(complaint!.ticketNumber);
      expect(handoff.ticketNumber).toBe(complaint!.ticketNumber);

      // The console's packet leads with the same case.
      const agent = await loginAs(service, 'agent1@kefu.demo');
      const detail = await call(service, 'GET', `/api/console/conversations/${handoff.conversationId}`, { token: agent.token });
      expect(detail.status).toBe(200);
      expect(detail.body.packet.focus).toMatchObject({
        kind: 'complaint',
        reference: complaint!.ticketNumber,
        orderNumber: 'KF53738838',
        merchantName: '静心堂足道养生',
        category: 'coupon_refused',
        description: WANG_DESCRIPTION,
        wantedOutcome: 'refund',
      });
      expect(detail.body.packet.orders[0].orderNumber).toBe('KF53738838');
    } finally {
      await service.close();
    }
  }, 180_000);

  it('LLM: the model is told the case, and the summary keeps its facts whatever the model writes', async () => {
    // A model that gets it wrong (names the latest order) must not be able to hide the case.
    const answer = { wants: '想退款', done: '机器人已为订单KF84144382退款', open: '联系顾客', note: null };
    const { handler, bodies } = completionsHandler((body) => {
      const name = body.response_format?.json_schema?.name;
      if (name === 'handoff_summary') return HttpResponse.json(completionBody(JSON.stringify(answer)));
      return HttpResponse.json({ error: { message: 'only summaries here' } }, { status: 500 });
    });
    server.use(handler);
    const service = await testService(backend, {
      env: { WEBCHAT_IDENTITY_SECRET: SECRET, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: OPENAI_BASE },
      clock: new FakeClock(new Date('2026-11-22T09:00:00Z')),
    });
    try {
      const { handoff } = await wangComplainsAfterRefund(service, SECRET);
      await service.settle();
      const [row] = await service.database.db.select().from(handoffs).where(eq(handoffs.id, handoff.id));
      const summaryCall = bodies.find((b) => b.response_format?.json_schema?.name === 'handoff_summary');
      expect(summaryCall).toBeDefined();
      const user = String(summaryCall.messages.at(-1).content);
      expect(user).toContain('KF53738838');
      expect(user).toContain('静心堂足道养生');
      expect(user).toContain(WANG_DESCRIPTION);
      const lines = row!.summary.split('\n');
      expect(lines[0]).toContain('KF53738838');
      expect(lines[0]).toContain('静心堂足道养生');
      expect(row!.summary).toContain(WANG_DESCRIPTION);
      expect(row!.summary).toContain('诉求：想退款');
    } finally {
      await service.close();
    }
  }, 180_000);
});
