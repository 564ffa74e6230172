import { readFileSync } from 'node:fs';
import { HttpResponse } from 'msw';
import { parse, stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/ports.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { conversations } from '../../src/db/schema.js';
import { DEFAULT_LEXICON_PATH } from '../../src/intent/lexicon.js';
import { IDENTITY_SECRET, loginAs, webchatSession } from '../support/console.js';
import { completionBody, completionsHandler, intentAnswer, onUnhandled, thirdPartyServer } from '../support/llm.js';
import { call, testService } from '../support/service.js';

const server = thirdPartyServer();
beforeAll(() => server.listen(onUnhandled));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

async function say(service: Awaited<ReturnType<typeof testService>>, token: string, text: string) {
  const before = (await call(service, 'GET', '/api/webchat/messages', { token })).body.messages.length;
  const sent = await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: `m-${Math.random()}`, text } });
  expect(sent.status).toBe(202);
  await service.settle();
  return (await call(service, 'GET', '/api/webchat/messages', { token })).body.messages.slice(before).filter((m: { author: string }) => m.author === 'bot');
}

const NOT_UNDERSTOOD = parse(readFileSync(new URL('../../flows/global.yaml', import.meta.url), 'utf8')).messages.notUnderstood['zh-Hans'];

describe('without an LLM the service runs the local model after the rules', () => {
  async function flowAfter(env: Record<string, string>, texts: string[]) {
    const service = await testService('pglite', { clock: new FakeClock(new Date('2026-11-22T09:00:00Z')), env: { WEBCHAT_IDENTITY_SECRET: IDENTITY_SECRET, ...env } });
    try {
      const token = await webchatSession(service, DEMO_SENIOR_CUSTOMER_ID);
      const replies: string[][] = [];
      for (const text of texts) replies.push((await say(service, token, text)).map((m: { text: string }) => m.text));
      const [conversation] = await service.database.db.select({ flowId: conversations.flowId }).from(conversations);
      return { replies, flowId: conversation?.flowId ?? null };
    } finally {
      await service.close();
    }
  }

  it('a request the lexicon has no words for reaches its flow; chatter about the weather does not', async () => {
    // 解绑 (unlink a phone number) is in no lexicon phrase: the model, trained on the labelled sets, knows it.
    const withModel = await flowAfter({}, ['帮我查一下明天的天气', '我要解绑手机号']);
    expect(withModel.replies[0]?.join('\n')).toContain(NOT_UNDERSTOOD);
    expect(withModel.flowId).toBe('account');

    const rulesOnly = await flowAfter({ INTENT_MODEL: 'off' }, ['我要解绑手机号']);
    expect(rulesOnly.replies[0]?.join('\n')).toContain(NOT_UNDERSTOOD);
    expect(rulesOnly.flowId).not.toBe('account');
  });
});

describe('the service sends the LLM the intent guide of the lexicon in force', () => {
  it('a lexicon published in the studio changes the intent guide the LLM is sent', async () => {
    const { handler, bodies } = completionsHandler(() => HttpResponse.json(completionBody(JSON.stringify(intentAnswer({ intent: 'other', confidence: 0.9 })))));
    server.use(handler);
    const service = await testService('pglite', {
      clock: new FakeClock(new Date('2026-11-22T09:00:00Z')),
      env: { WEBCHAT_IDENTITY_SECRET: IDENTITY_SECRET, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: 'https://api.openai.com/v1' },
    });
    try {
      const token = await webchatSession(service, DEMO_SENIOR_CUSTOMER_ID);
      // Classification requests only (a handoff's summary is another call).
      const classify = () => bodies.filter((b) => b.response_format?.json_schema?.name === 'classification');
      await say(service, token, 'hmm well, so');
      expect(classify().length).toBe(1);
      expect(classify().at(-1).messages[0].content).toContain('- refund_status: asks where a refund already asked for stands.');

      const admin = (await loginAs(service, 'admin@kefu.demo')).token;
      const editor = (await loginAs(service, 'editor@kefu.demo')).token;
      const document = parse(readFileSync(DEFAULT_LEXICON_PATH, 'utf8'));
      document.guide.refund_status.description = 'asks where a refund stands (published from the studio)';
      const draft = await call(service, 'PUT', '/api/admin/studio/draft', { token: editor, body: { id: 'flows/intents.yaml', content: stringify(document) } });
      expect(draft.status, JSON.stringify(draft.body)).toBeLessThan(300);
      const published = await call(service, 'POST', '/api/admin/studio/publish', { token: admin, body: { documents: ['flows/intents.yaml'] } });
      expect(published.status, JSON.stringify(published.body)).toBeLessThan(300);

      await say(service, token, 'hmm well, and');
      expect(classify().length).toBe(2);
      expect(classify().at(-1).messages[0].content).toContain('- refund_status: asks where a refund stands (published from the studio)');
    } finally {
      await service.close();
    }
  });
});
