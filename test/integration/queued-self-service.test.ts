import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/ports.js';
import { conversations, handoffs } from '../../src/db/schema.js';
import { DEMO_EN_CUSTOMER_ID, DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { IDENTITY_SECRET, loginAs, webchatSession } from '../support/console.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';

describe.each(backends())('while waiting for a person the consumer can still use the bot, on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  const clock = new FakeClock(new Date('2026-11-23T09:00:00Z'));
  let agent: Awaited<ReturnType<typeof loginAs>>;

  beforeAll(async () => {
    service = await testService(backend, { clock, env: { WEBCHAT_IDENTITY_SECRET: IDENTITY_SECRET, SESSION_TTL_HOURS: '1000' } });
    agent = await loginAs(service, 'agent1@kefu.demo');
  });
  afterAll(async () => {
    await service?.close();
  });

  let n = 0;
  const send = async (token: string, body: { text: string } | { choice: string }) => {
    const res = await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: `m-${(n += 1)}`, ...body } });
    expect(res.status).toBe(202);
    await service.settle();
    return res.body.messageId as string;
  };
  const botSince = async (token: string, count: number) => {
    const history = await call(service, 'GET', '/api/webchat/messages', { token });
    return history.body.messages.slice(count).filter((m: { author: string }) => m.author === 'bot');
  };
  const queueIds = async () =>
    (await call(service, 'GET', '/api/console/queue?view=waiting', { token: agent.token })).body.cases.map((c: { id: string }) => c.id) as string[];

  it('我不会注册 gets the registration guide; the case stays queued in the same place; the agent sees the bot answers', async () => {
    // Someone else is queued first, so "the same place" means something.
    const other = await webchatSession(service, DEMO_EN_CUSTOMER_ID);
    await send(other, { text: 'I want to talk to a person' });
    const token = await webchatSession(service, DEMO_SENIOR_CUSTOMER_ID);
    await send(token, { text: '我要找人工客服' });
    const rows = await service.database.db.select().from(conversations);
    const mine = rows.find((r) => r.customerId === DEMO_SENIOR_CUSTOMER_ID && r.status === 'waiting')!;
    expect(mine).toBeDefined();
    const before = await queueIds();
    expect(before).toContain(mine.id);
    const historyBefore = (await call(service, 'GET', '/api/webchat/messages', { token })).body.messages.length;

    await send(token, { text: '我不会注册' });
    const answered = await botSince(token, historyBefore);
    expect(answered.map((m: { text: string }) => m.text).join('\n')).toMatch(/正在排队[\s\S]*我来一步一步教您/);
    expect(answered.at(-1).quickReplies.map((q: { id: string }) => q.id)).toContain('register');
    await send(token, { choice: 'register' });
    expect((await botSince(token, historyBefore)).at(-1).text).toMatch(/^第 1 步（共 3 步）/);

    // Asking for a person again, and pressing the person button: no second case, same place.
    const count = (await call(service, 'GET', '/api/webchat/messages', { token })).body.messages.length;
    await send(token, { text: '我要找人' });
    await send(token, { choice: 'human' });
    const reminders = await botSince(token, count);
    expect(reminders.map((m: { text: string }) => m.text)).toEqual([expect.stringMatching(/您已经在排队了（工单 .+），排队位置不变/), expect.stringMatching(/您已经在排队了/)]);
    const cases = await service.database.db.select().from(handoffs).where(eq(handoffs.conversationId, mine.id));
    expect(cases).toHaveLength(1);
    const after = await service.database.db.select().from(conversations).where(eq(conversations.id, mine.id));
    expect(after[0]).toMatchObject({ status: 'waiting', priority: mine.priority, handoffAt: mine.handoffAt, firstResponseDueAt: mine.firstResponseDueAt });
    expect(await queueIds()).toEqual(before);

    // The agent's case view has what the bot said meanwhile, labelled as the bot's.
    const detail = await call(service, 'GET', `/api/console/conversations/${mine.id}`, { token: agent.token });
    expect(detail.status).toBe(200);
    const botLines = detail.body.transcript.filter((m: { author: string }) => m.author === 'bot').map((m: { text: string }) => m.text);
    expect(botLines.some((t: string) => /第 1 步（共 3 步）/.test(t))).toBe(true);
    expect(botLines.some((t: string) => /我来一步一步教您/.test(t))).toBe(true);

    // Once an agent owns it, the bot is quiet again.
    expect((await call(service, 'POST', `/api/console/conversations/${mine.id}/claim`, { token: agent.token, body: {} })).status).toBe(200);
    const quietFrom = (await call(service, 'GET', '/api/webchat/messages', { token })).body.messages.length;
    await send(token, { text: '我不会注册' });
    expect(await botSince(token, quietFrom)).toEqual([]);
  });
});
