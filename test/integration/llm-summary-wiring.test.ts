import { eq } from 'drizzle-orm';
import { HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signCustomerId } from '../../channels/webchat/index.js';
import { handoffs } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { backends } from '../support/db.js';
import { completionBody, completionsHandler, OPENAI_BASE, onUnhandled, thirdPartyServer } from '../support/llm.js';
import { call, testService } from '../support/service.js';

const server = thirdPartyServer();
beforeAll(() => server.listen(onUnhandled));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

describe.each(backends())('a handoff from the web chat gets the LLM summary on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;

  beforeAll(async () => {
    service = await testService(backend, {
      env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: OPENAI_BASE, WEBCHAT_IDENTITY_SECRET: 's' },
    });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('replaces the rule-based summary after the handoff committed, and keeps it when the model fails', async () => {
    const answer = { wants: '想找人工客服帮忙', done: '机器人显示了主菜单', open: '等待客服联系', note: null };
    const { handler, bodies } = completionsHandler(() => HttpResponse.json(completionBody(JSON.stringify(answer))));
    server.use(handler);
    const session = await call(service, 'POST', '/api/webchat/sessions', {
      body: { customerId: DEMO_SENIOR_CUSTOMER_ID, signature: signCustomerId(DEMO_SENIOR_CUSTOMER_ID, 's') },
    });
    // "转人工" is answered by the rules alone, so the only model call is the summary.
    await call(service, 'POST', '/api/webchat/messages', { token: session.body.token, body: { clientMessageId: 'p-1', text: '转人工' } });
    await service.settle();
    const rows = await service.database.db.select().from(handoffs);
    expect(rows).toHaveLength(1);
    expect(bodies.length).toBe(1);
    expect(rows[0]?.summary).toContain('想找人工客服帮忙');

    server.resetHandlers();
    server.use(completionsHandler(() => HttpResponse.json({ error: { message: 'down' } }, { status: 500 })).handler);
    const other = await call(service, 'POST', '/api/webchat/sessions', { body: { locale: 'en' } });
    await call(service, 'POST', '/api/webchat/messages', { token: other.body.token, body: { clientMessageId: 'p-2', text: 'I want to talk to a human' } });
    await service.settle();
    const all = await service.database.db.select().from(handoffs);
    const second = all.find((h) => h.id !== rows[0]?.id);
    expect(second?.summary.length).toBeGreaterThan(0);
    expect(second?.summary).not.toContain('想找人工客服帮忙');
    const [same] = await service.database.db.select().from(handoffs).where(eq(handoffs.id, rows[0]!.id));
    expect(same?.summary).toContain('想找人工客服帮忙');
  });
});
