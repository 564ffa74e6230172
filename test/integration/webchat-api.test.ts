import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCustomerId } from '../../channels/webchat/index.js';
import { messages, outbox } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';

describe.each(backends())('web chat API on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;

  beforeAll(async () => {
    service = await testService(backend, { env: { WEBCHAT_IDENTITY_SECRET: 'host-secret' } });
  });
  afterAll(async () => {
    await service?.close();
  });

  async function session(customerId = DEMO_SENIOR_CUSTOMER_ID) {
    const res = await call(service, 'POST', '/api/webchat/sessions', {
      body: { customerId, signature: signCustomerId(customerId, 'host-secret') },
    });
    expect(res.status).toBe(201);
    return res.body.token as string;
  }

  it('opens a new chat with the greeting and the main menu before anything is typed', async () => {
    const token = await session();
    await service.settle();
    const history = await call(service, 'GET', '/api/webchat/messages', { token });
    expect(history.body.messages.map((m: { author: string }) => m.author)).toEqual(['bot']);
    expect(history.body.messages[0].text).toMatch(/您好！我是客服小助手/);
    expect(history.body.messages[0].quickReplies.map((q: { id: string }) => q.id)).toEqual(['account_help', 'refund', 'complaint', 'refund_status', 'order_help', 'human']);
  });

  it('answers a message with the main menu, delivered when the turn commits', async () => {
    const token = await session();
    await service.settle();
    const opened = await call(service, 'GET', '/api/webchat/messages', { token });
    const sent = await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: 'm-1', text: '你好' } });
    expect(sent.status).toBe(202);
    expect(sent.body.duplicate).toBe(false);
    await service.settle();
    const history = await call(service, 'GET', `/api/webchat/messages?after=${opened.body.cursor}`, { token });
    expect(history.status).toBe(200);
    const authors = history.body.messages.map((m: { author: string }) => m.author);
    expect(authors).toEqual(['customer', 'bot']);
    const bot = history.body.messages[1];
    expect(bot.quickReplies.map((q: { id: string }) => q.id)).toContain('human');
    expect(bot.text).toMatch(/您好/);
    // Web chat reads replies from the store: the bot's answer needs no outbox row to be delivered.
    const [stored] = await service.database.db.select().from(messages).where(eq(messages.id, bot.id));
    expect(stored?.deliveryStatus).toBe('sent');
    expect(await service.database.db.select().from(outbox).where(eq(outbox.messageId, bot.id))).toEqual([]);
    // The cursor only returns newer messages.
    const later = await call(service, 'GET', `/api/webchat/messages?after=${history.body.cursor}`, { token });
    expect(later.body.messages).toEqual([]);
  });

  it('stores one message and sends one reply when the same clientMessageId arrives 3x concurrently', async () => {
    const token = await session();
    const results = await Promise.all(
      [1, 2, 3].map(() => call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: 'same-id', text: 'hello' } })),
    );
    expect(results.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(new Set(results.map((r) => r.body.messageId)).size).toBe(1);
    expect(results.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    await service.settle();
    const stored = await service.database.db
      .select()
      .from(messages)
      .where(and(eq(messages.channel, 'webchat'), eq(messages.externalId, `customer:${DEMO_SENIOR_CUSTOMER_ID}/same-id`)));
    expect(stored).toHaveLength(1);
    const replies = await service.database.db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, stored[0]!.conversationId), eq(messages.direction, 'out')));
    const afterMessage = replies.filter((r) => r.seq > stored[0]!.seq);
    expect(afterMessage).toHaveLength(1);
  });

  it('records a pressed quick reply with its label', async () => {
    const token = await session();
    await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: 'q-1', text: 'hi' } });
    await service.settle();
    const pressed = await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: 'q-2', choice: 'refund' } });
    expect(pressed.status).toBe(202);
    const [row] = await service.database.db.select().from(messages).where(eq(messages.id, pressed.body.messageId));
    expect(row?.choice).toBe('refund');
    expect(row?.text).toMatch(/退款|refund/i);
  });

  it('refuses bad input with a JSON error naming the problem, and keeps serving', async () => {
    const token = await session();
    const malformed = await call(service, 'POST', '/api/webchat/messages', { token, rawBody: '{"clientMessageId": "x", "text": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('bad_request');
    expect(malformed.body.error.message).toMatch(/JSON/);

    const missing = await call(service, 'POST', '/api/webchat/messages', { token, body: { text: 'no id' } });
    expect(missing.status).toBe(422);
    expect(JSON.stringify(missing.body.error)).toMatch(/clientMessageId/);

    const huge = await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: 'big', text: 'x'.repeat(1024 * 1024) } });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('payload_too_large');

    const wrongToken = await call(service, 'POST', '/api/webchat/messages', { token: 'wc_nope', body: { clientMessageId: 'a', text: 'hi' } });
    expect(wrongToken.status).toBe(401);
    expect(wrongToken.body.error.code).toBe('unauthorized');

    const badSignature = await call(service, 'POST', '/api/webchat/sessions', {
      body: { customerId: DEMO_SENIOR_CUSTOMER_ID, signature: 'ab'.repeat(32) },
    });
    expect(badSignature.status).toBe(401);
    expect(badSignature.body.error.message).toMatch(/signature/);

    const badCursor = await call(service, 'GET', '/api/webchat/messages?after=abc', { token });
    expect(badCursor.status).toBe(400);

    const unknownRoute = await call(service, 'GET', '/api/nope');
    expect(unknownRoute.status).toBe(404);
    expect(unknownRoute.body.error.code).toBe('not_found');

    const ok = await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: 'after-bad', text: 'still there?' } });
    expect(ok.status).toBe(202);
  });

  it('lets an anonymous visitor chat without an identity', async () => {
    const created = await call(service, 'POST', '/api/webchat/sessions', { body: { locale: 'en' } });
    expect(created.status).toBe(201);
    const token = created.body.token;
    await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: 'v-1', text: 'Hello there' } });
    await service.settle();
    const history = await call(service, 'GET', '/api/webchat/messages', { token });
    expect(history.body.messages.at(-1).text).toMatch(/Hello! I'm the support assistant/);
  });

  it('reports health and readiness', async () => {
    expect((await call(service, 'GET', '/healthz')).status).toBe(200);
    const ready = await call(service, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
  });
});
