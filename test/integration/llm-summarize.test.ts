import { eq } from 'drizzle-orm';
import { HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openHandoff, refineHandoffSummary } from '../../src/actions/handoff.js';
import { handoffs } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { createSummarizer, LlmMetrics } from '../../src/llm/index.js';
import { backends } from '../support/db.js';
import { captureLogger, completionBody, completionsHandler, llmConfig, onUnhandled, thirdPartyServer } from '../support/llm.js';
import { testService } from '../support/service.js';

const server = thirdPartyServer();
beforeAll(() => server.listen(onUnhandled));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

describe.each(backends())('LLM handoff summary on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  let n = 0;

  beforeAll(async () => {
    service = await testService(backend);
  });
  afterAll(async () => {
    await service?.close();
  });

  /** A conversation with the demo senior customer, handed off; returns the handoff id and its rule summary. */
  async function handedOff(text: string): Promise<{ handoffId: string; ruleSummary: string }> {
    n += 1;
    const received = await service.receive({
      channel: 'webchat',
      externalMessageId: `summary-${n}`,
      sender: { externalId: `customer:${DEMO_SENIOR_CUSTOMER_ID}`, customerId: DEMO_SENIOR_CUSTOMER_ID, displayName: '王秀兰' },
      text,
    });
    await service.settle();
    const db = service.database.db;
    const { handoffId } = await db.transaction((tx) =>
      openHandoff(tx, { conversationId: received.conversationId, reason: 'customer_request', priority: 0, slots: { note: 'mail me at wang.xiulan@qq.com' } }, new Date('2026-11-22T10:00:00Z')),
    );
    const [row] = await db.select({ summary: handoffs.summary }).from(handoffs).where(eq(handoffs.id, handoffId));
    return { handoffId, ruleSummary: row?.summary ?? '' };
  }

  async function summaryOf(handoffId: string): Promise<string | undefined> {
    const [row] = await service.database.db.select({ summary: handoffs.summary }).from(handoffs).where(eq(handoffs.id, handoffId));
    return row?.summary;
  }

  it('replaces the rule-based summary with 3–4 labelled lines from the model, sending only masked data', async () => {
    const answer = { wants: '想退掉一张没用过的火锅券', done: '机器人展示了订单列表', open: '确认退哪张券并处理退款', note: '首次使用，年纪较大' };
    const { handler, bodies } = completionsHandler(() => HttpResponse.json(completionBody(JSON.stringify(answer))));
    server.use(handler);
    const log = captureLogger();
    const { handoffId } = await handedOff('我要找人帮我退款，我的邮箱是 wang.xiulan@qq.com，电话13812345678');
    const summarizer = createSummarizer(llmConfig(), log.logger, { metrics: new LlmMetrics() });
    expect(summarizer).not.toBeNull();
    expect(await refineHandoffSummary(service.database.db, handoffId, summarizer!)).toBe(true);

    expect(await summaryOf(handoffId)).toBe(
      ['诉求：想退掉一张没用过的火锅券', '已处理：机器人展示了订单列表', '待办：确认退哪张券并处理退款', '备注：首次使用，年纪较大'].join('\n'),
    );
    const body = bodies[0];
    expect(body.response_format.json_schema.name).toBe('handoff_summary');
    expect(body.messages[0].content).toContain('Write in Simplified Chinese');
    const sent = JSON.stringify(body);
    expect(sent).toContain('我要找人帮我退款');
    expect(sent).not.toContain('wang.xiulan');
    expect(sent).not.toContain('13812345678');
    expect(sent).toContain('[email w***@qq.com]');
    expect(log.lines().find((l) => l.msg === 'llm.call')).toMatchObject({ task: 'summarize', outcome: 'ok' });
  });

  it('keeps the rule-based summary when the model fails or answers out of shape', async () => {
    for (const reply of [
      () => HttpResponse.json({ error: { message: 'down' } }, { status: 500 }),
      () => HttpResponse.json(completionBody(JSON.stringify({ wants: 'x', approved_refund: 500 }))),
    ]) {
      server.resetHandlers(completionsHandler(reply).handler);
      const { handoffId, ruleSummary } = await handedOff('转人工');
      expect(ruleSummary.split('\n').length).toBeGreaterThanOrEqual(2);
      const summarizer = createSummarizer(llmConfig(), captureLogger().logger, { metrics: new LlmMetrics() });
      expect(await refineHandoffSummary(service.database.db, handoffId, summarizer!)).toBe(false);
      expect(await summaryOf(handoffId)).toBe(ruleSummary);
    }
  });

  it('is not built without an API key, so the rule-based summary stands', () => {
    expect(createSummarizer(llmConfig({ OPENAI_API_KEY: undefined }), captureLogger().logger)).toBeNull();
  });
});
