import { asc, eq } from 'drizzle-orm';
import { HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handoffs, messages } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { backends } from '../support/db.js';
import { completionsHandler, OPENAI_BASE, onUnhandled, thirdPartyServer } from '../support/llm.js';
import { testService } from '../support/service.js';

const server = thirdPartyServer();
beforeAll(() => server.listen(onUnhandled));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

// Messages the rules alone cannot place, then ones they can: the LLM would be asked for the first kind.
const SCRIPT = ['你好', '那个东西我弄不明白', '就是上次买的那个', '申请退款', '其他订单', '嗯嗯'];

/** Runs the script through a whole service and returns what the bot said and how many handoffs it opened. */
async function runScript(backend: Parameters<typeof testService>[0], env: Record<string, string>) {
  const service = await testService(backend, { env });
  try {
    let conversationId = '';
    for (const [i, text] of SCRIPT.entries()) {
      const received = await service.receive({
        channel: 'webchat',
        externalMessageId: `outage-${i}`,
        sender: { externalId: `customer:${DEMO_SENIOR_CUSTOMER_ID}`, customerId: DEMO_SENIOR_CUSTOMER_ID, displayName: '王秀兰' },
        text,
      });
      conversationId = received.conversationId;
      await service.settle();
    }
    const db = service.database.db;
    const said = await db
      .select({ author: messages.author, text: messages.text })
      .from(messages)
      .where(eq(messages.conversationId, conversationId))
      .orderBy(asc(messages.seq));
    const opened = await db.select({ reason: handoffs.reason }).from(handoffs).where(eq(handoffs.conversationId, conversationId));
    return { said, handoffs: opened.map((h) => h.reason) };
  } finally {
    await service.close();
  }
}

describe.each(backends())('an LLM outage on %s', (backend) => {
  it('behaves exactly like running without an LLM: no extra "not understood" handoffs', async () => {
    const { handler, bodies } = completionsHandler(() => HttpResponse.json({ error: { message: 'upstream down' } }, { status: 503 }));
    server.use(handler);
    const down = await runScript(backend, { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: OPENAI_BASE });
    const rulesOnly = await runScript(backend, {});
    expect(bodies.length).toBeGreaterThan(0);
    expect(down.said.filter((m) => m.author === 'bot').length).toBeGreaterThan(0);
    expect(down).toEqual(rulesOnly);
  });
});
