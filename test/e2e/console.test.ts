import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { and, desc, eq, ne } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHandoff } from '../../src/actions/handoff.js';
import { loadHandoffMessages } from '../../src/console/wording.js';
import { conversations, orders } from '../../src/db/schema.js';
import { DEMO_PASSWORD, DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { launchChromium, serveOnLoopback, skipBrowserSuite } from '../support/browser.js';
import { testService } from '../support/service.js';

const SKIP = skipBrowserSuite('console browser test');

/** Where screenshots of the console land for a human to look at (ignored by git). */
const SHOTS = join(import.meta.dirname, '../../.tmp/screenshots');

describe.skipIf(SKIP)('agent console in Chromium, with the consumer in the web chat', () => {
  let service: Awaited<ReturnType<typeof testService>>;
  let served: Awaited<ReturnType<typeof serveOnLoopback>>;
  let base: string;
  let browser: Browser;
  const pageErrors: string[] = [];
  const wording = loadHandoffMessages();

  beforeAll(async () => {
    service = await testService('pglite', { start: true });
    served = await serveOnLoopback(service.app.fetch);
    base = served.base;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await service?.close();
  });

  it('consumer asks for a person → agent logs in, sees the order context, claims, replies → consumer sees it; resolve → satisfaction question', async () => {
    // The agent is already looking at the queue when the consumer asks: the case must appear live.
    const agentContext = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const agent = await agentContext.newPage();
    agent.on('pageerror', (err) => pageErrors.push(`agent: ${String(err)}`));
    await agent.goto(`${base}/console`);
    await agent.waitForURL(/\/console\/login/);
    await agent.fill('#email', 'agent1@kefu.demo');
    await agent.fill('#password', 'wrong-password');
    await agent.getByRole('button', { name: '登录' }).click();
    await expect.poll(() => agent.locator('#login-error').textContent()).toContain('登录失败');
    await agent.fill('#password', DEMO_PASSWORD);
    await agent.getByRole('button', { name: '登录' }).click();
    await agent.waitForURL(`${base}/console`);

    expect(await agent.locator('#queue').textContent()).not.toContain('王秀兰');

    const consumerContext = await browser.newContext({ viewport: { width: 420, height: 860 } });
    const consumer = await consumerContext.newPage();
    consumer.on('pageerror', (err) => pageErrors.push(`consumer: ${String(err)}`));
    await consumer.goto(base);
    await consumer.locator('#customers button', { hasText: '王秀兰' }).first().click();
    const input = consumer.locator('#text');
    await input.fill('我要找人工客服');
    await consumer.locator('#send').click();
    await expect.poll(() => consumer.locator('#messages > li.bot, #messages > li.system').count(), { timeout: 15_000 }).toBeGreaterThan(0);

    // The flow engine hands off on "I want a person" once it lands; until then the handoff is opened here.
    const db = service.database.db;
    const [conversation] = await db
      .select()
      .from(conversations)
      .where(and(eq(conversations.customerId, DEMO_SENIOR_CUSTOMER_ID), ne(conversations.status, 'closed')))
      .orderBy(desc(conversations.createdAt))
      .limit(1);
    expect(conversation).toBeDefined();
    if (conversation!.status !== 'waiting') {
      await db.transaction((tx) =>
        openHandoff(tx, { conversationId: conversation!.id, reason: 'customer_request', priority: 0, slots: {} }, new Date()),
      );
      await service.hub.publish({ type: 'conversation', conversationId: conversation!.id });
    }
    const [order] = await db.select().from(orders).where(eq(orders.customerId, DEMO_SENIOR_CUSTOMER_ID)).orderBy(desc(orders.createdAt)).limit(1);

    // No reload: the SSE stream refreshes the queue.
    const entry = agent.locator('#queue a', { hasText: '王秀兰' });
    await expect.poll(() => entry.count(), { timeout: 10_000 }).toBe(1);
    await entry.click();
    await agent.waitForURL(new RegExp(`c=${conversation!.id}`));
    // The order context sits beside the transcript.
    await expect.poll(() => agent.locator('#packet').textContent()).toContain(order!.orderNumber);
    expect(await agent.locator('#packet').textContent()).toContain('首次使用');
    expect(await agent.locator('#transcript').textContent()).toContain('我要找人工客服');

    await agent.getByRole('button', { name: '认领' }).click();
    await expect.poll(() => agent.locator('#case-head').textContent(), { timeout: 10_000 }).toContain('负责人 李明');
    mkdirSync(SHOTS, { recursive: true });
    await agent.screenshot({ path: join(SHOTS, 'console-case.png') });

    const reply = '王阿姨您好，我是客服李明。您的订单我看到了，马上帮您处理。';
    await agent.fill('#reply-text', reply);
    await agent.getByRole('button', { name: '发送回复' }).click();
    await expect.poll(() => consumer.locator('#messages > li.agent').last().textContent(), { timeout: 15_000 }).toContain(reply);

    await expect.poll(() => agent.locator('#transcript').textContent(), { timeout: 10_000 }).toContain(reply);
    await agent.selectOption('#resolution-code', 'explained');
    await agent.getByRole('button', { name: '标记解决' }).click();
    await expect
      .poll(() => consumer.locator('#messages > li').last().textContent(), { timeout: 15_000 })
      .toContain(wording.satisfaction.question['zh-Hans']);
    const five = consumer.locator('#quick-replies').getByRole('button', { name: wording.satisfaction.labels['5']['zh-Hans'] });
    await five.click();
    await expect.poll(async () => (await db.select().from(conversations).where(eq(conversations.id, conversation!.id)))[0]?.satisfaction, { timeout: 15_000 }).toBe(5);
    await expect
      .poll(() => consumer.locator('#messages > li').last().textContent(), { timeout: 15_000 })
      .toContain(wording.satisfaction.thanks['zh-Hans']);
    await agent.screenshot({ path: join(SHOTS, 'console-resolved.png') });

    // The manager's dashboard renders for the same period.
    const managerContext = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const manager = await managerContext.newPage();
    await manager.goto(`${base}/console/login`);
    await manager.fill('#email', 'manager@kefu.demo');
    await manager.fill('#password', DEMO_PASSWORD);
    await manager.getByRole('button', { name: '登录' }).click();
    await manager.waitForURL(`${base}/console`);
    await manager.goto(`${base}/console/dashboard`);
    expect(await manager.locator('.tiles').textContent()).toContain('按时首次回复');
    await manager.screenshot({ path: join(SHOTS, 'console-dashboard.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
