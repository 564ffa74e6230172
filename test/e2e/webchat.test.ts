import { and, eq } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messages } from '../../src/db/schema.js';
import { launchChromium, serveOnLoopback, skipBrowserSuite } from '../support/browser.js';
import { testService } from '../support/service.js';

const SKIP = skipBrowserSuite('browser tests');

describe.skipIf(SKIP)('web chat page in Chromium', () => {
  let service: Awaited<ReturnType<typeof testService>>;
  let served: Awaited<ReturnType<typeof serveOnLoopback>>;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    service = await testService('pglite', { start: true });
    served = await serveOnLoopback(service.app.fetch);
    base = served.base;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 420, height: 860 }, locale: 'zh-CN' });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(String(err)));
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await service?.close();
  });

  const items = () => page.locator('#messages > li');
  const botItems = () => page.locator('#messages > li.bot');
  const customerItems = () => page.locator('#messages > li.customer');

  /** What the consumer sees: author label + text of every message, in order. */
  async function transcript(): Promise<string[]> {
    return items().evaluateAll((lis) =>
      lis.map((li) => `${li.querySelector('.author')?.textContent}: ${li.querySelector('.bubble')?.textContent}`),
    );
  }

  async function storedCustomerMessages(text: string) {
    return service.database.db
      .select({ id: messages.id })
      .from(messages)
      .where(and(eq(messages.direction, 'in'), eq(messages.text, text)));
  }

  /** The conversation as the API reports it, in the page's "label: text" form. */
  async function serverTranscript(): Promise<string[]> {
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('kefu.webchat.v1') ?? '{}').token as string);
    const res = await fetch(`${base}/api/webchat/messages`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { messages: { author: string; text: string }[] };
    const label: Record<string, string> = { customer: '我', bot: '客服小助手', agent: '人工客服', system: '系统消息' };
    return body.messages.map((m) => `${label[m.author]}: ${m.text}`);
  }

  it('lets the demo senior pick herself, chat, and press a big quick-reply button', async () => {
    await page.goto(base);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-Hans');
    const first = page.locator('#customers button').first();
    await expect.poll(() => first.textContent()).toMatch(/王秀兰.*68/);
    await expect.poll(() => page.getByRole('button', { name: '以访客身份继续' }).count()).toBe(1);
    await first.click();

    // The chat opens with the greeting and the main menu before she types anything.
    await expect.poll(() => botItems().allTextContents(), { timeout: 5000 }).toEqual([expect.stringContaining('您好！我是客服小助手')]);
    await expect.poll(() => page.locator('#quick-replies button').allTextContents()).toEqual(expect.arrayContaining(['申请退款', '我要投诉', '找人工客服']));
    expect(await customerItems().count()).toBe(0);

    const input = page.getByLabel('输入您的问题');
    await input.fill('你好');
    await input.press('Enter');
    // Her own message shows at once, on the right, labelled as hers; then the bot answers with buttons.
    await expect.poll(() => customerItems().count(), { timeout: 2000 }).toBe(1);
    expect(await botItems().first().locator('.author').textContent()).toBe('客服小助手');
    const buttons = page.locator('#quick-replies button');
    await expect.poll(() => botItems().count(), { timeout: 5000 }).toBe(2);
    await expect.poll(() => buttons.count()).toBeGreaterThanOrEqual(2);

    const choice = buttons.first();
    const box = await choice.boundingBox();
    expect(box?.height).toBeGreaterThanOrEqual(48);
    const fontPx = await choice.evaluate((el) => Number.parseFloat(getComputedStyle(el).fontSize));
    expect(fontPx).toBeGreaterThanOrEqual(18);

    const label = (await choice.textContent()) ?? '';
    const botsBefore = await botItems().count();
    await choice.click();
    await expect.poll(() => customerItems().allTextContents()).toEqual([expect.stringContaining('你好'), expect.stringContaining(label)]);
    await expect.poll(() => botItems().count(), { timeout: 5000 }).toBeGreaterThan(botsBefore);
    // The button sent its choice id, not free text; the transcript matches the server's.
    const pressed = await service.database.db.select().from(messages).where(eq(messages.text, label));
    expect(pressed).toHaveLength(1);
    // …the id of the quick reply the bot offered under that label.
    const offered = await service.database.db.select({ quickReplies: messages.quickReplies }).from(messages).where(eq(messages.direction, 'out'));
    const offeredId = offered.flatMap((m) => m.quickReplies ?? []).find((q) => q.label === label)?.id;
    expect(offeredId).toBeDefined();
    expect(pressed[0]?.choice).toBe(offeredId);
    await expect.poll(transcript).toEqual(await serverTranscript());
  });

  it('shows the same conversation after a reload, without duplicates', async () => {
    const before = await transcript();
    expect(before.length).toBeGreaterThanOrEqual(4);
    await page.reload();
    await expect.poll(transcript).toEqual(before);
    const ids = await items().evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.id));
    expect(new Set(ids).size).toBe(before.length);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
  });

  it('catches up on what the server sent while the connection was down', async () => {
    const before = await transcript();
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('kefu.webchat.v1') ?? '{}').token as string);
    await context.setOffline(true);
    // Cut the live stream on the server side too, as a restarting proxy would.
    if ('closeAllConnections' in served.server) served.server.closeAllConnections();
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/重新连接/);

    // Meanwhile she writes from her phone; the bot answers there.
    const res = await fetch(`${base}/api/webchat/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ clientMessageId: 'from-phone-1', text: '我在手机上也问一下' }),
    });
    expect(res.status).toBe(202);
    await service.settle();
    const expected = await serverTranscript();
    expect(expected.slice(0, before.length)).toEqual(before);
    expect(expected[before.length]).toBe('我: 我在手机上也问一下');
    expect(expected[before.length + 1]).toMatch(/^客服小助手: /);
    expect(await transcript()).toEqual(before);

    await context.setOffline(false);
    await expect.poll(transcript, { timeout: 15_000 }).toEqual(expected);
    await expect.poll(() => page.locator('#status').textContent()).toBe('');
  });

  it('re-sends with the same clientMessageId when the answer was lost, so the message is stored once', async () => {
    let lost = 0;
    await page.route('**/api/webchat/messages', async (route) => {
      if (route.request().method() !== 'POST' || lost > 0) return route.fallback();
      lost += 1;
      await route.fetch(); // the server stores it…
      await route.abort('connectionreset'); // …but the browser never hears back
    });
    const input = page.getByLabel('输入您的问题');
    await input.fill('这条只能存一次');
    await page.getByRole('button', { name: '发送', exact: true }).click();
    await expect.poll(() => storedCustomerMessages('这条只能存一次').then((r) => r.length)).toBe(1);
    // The page retries by itself, and the retry is recognised as the same message.
    await expect.poll(() => page.locator('#messages > li.failed, #messages > li.pending').count(), { timeout: 10_000 }).toBe(0);
    await service.settle();
    await expect.poll(transcript).toEqual(await serverTranscript());
    expect(await customerItems().filter({ hasText: '这条只能存一次' }).count()).toBe(1);
    expect(lost).toBe(1);
    expect(await storedCustomerMessages('这条只能存一次')).toHaveLength(1);
    await page.unroute('**/api/webchat/messages');
    expect(pageErrors).toEqual([]);
  });

  it('falls back to polling when the live stream never gets through', async () => {
    const isolated = await browser.newContext({ viewport: { width: 420, height: 860 }, locale: 'zh-CN' });
    try {
      const guestPage = await isolated.newPage();
      // A proxy that refuses streams: every EventSource request fails.
      await guestPage.route('**/api/webchat/events**', (route) => route.abort('connectionrefused'));
      await guestPage.goto(base);
      await guestPage.getByRole('button', { name: '以访客身份继续' }).click();
      await expect.poll(() => guestPage.locator('#status').textContent(), { timeout: 15_000 }).toMatch(/网络连接受限/);
      const input = guestPage.getByLabel('输入您的问题');
      await input.fill('有人吗');
      await input.press('Enter');
      await expect.poll(() => guestPage.locator('#messages > li.bot').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
      expect(await guestPage.locator('#messages > li.customer').allTextContents()).toEqual([expect.stringContaining('有人吗')]);
    } finally {
      await isolated.close();
    }
  });

  it('in senior mode shows the bot\'s messages one at a time, and the answer to hers as soon as it comes', async () => {
    const paced = await browser.newContext({ viewport: { width: 420, height: 860 }, locale: 'zh-CN' });
    try {
      const p = await paced.newPage();
      // The page's clock is ours: once paused, no pacing timer fires unless the test lets time pass.
      await p.clock.install();
      await p.goto(base);
      // Another first-time senior than the other tests', so the chat starts empty.
      await p.locator('#customers button', { hasText: '朱红梅' }).click();
      const bots = p.locator('#messages > li.bot');
      const buttons = p.locator('#quick-replies button');
      await expect.poll(() => bots.count(), { timeout: 5000 }).toBe(1);
      expect(await p.getByRole('switch', { name: '大字模式' }).isChecked()).toBe(true);
      // Time stands still from just after the greeting (the next bot message would be due 1.2 s later).
      await p.clock.pauseAt((await p.evaluate(() => Date.now())) + 100);

      // Her question is answered without waiting out the pace: she has read the greeting.
      await buttons.getByText('订单和券码问题').click();
      await expect.poll(() => bots.count(), { timeout: 5000 }).toBe(2);
      await buttons.first().click(); // her order
      await expect.poll(() => bots.count(), { timeout: 5000 }).toBe(3);

      // "My coupon codes" is answered with two messages: the codes, then what else she can ask.
      // The second waits its turn behind the typing indicator, with no buttons offered meanwhile.
      await buttons.getByText('我的券码').click();
      const token = await p.evaluate(() => JSON.parse(localStorage.getItem('kefu.webchat.v1') ?? '{}').token as string);
      const serverBotTexts = async () => {
        const res = await fetch(`${base}/api/webchat/messages`, { headers: { authorization: `Bearer ${token}` } });
        return ((await res.json()) as { messages: { author: string; text: string }[] }).messages.filter((m) => m.author === 'bot').map((m) => m.text);
      };
      await expect.poll(serverBotTexts, { timeout: 5000 }).toHaveLength(5);
      await expect.poll(() => bots.count(), { timeout: 5000 }).toBe(4);
      expect(await bots.last().locator('.bubble').textContent()).toMatch(/这个订单共 \d+ 张券/);
      await expect.poll(() => p.locator('#typing').getAttribute('class')).toMatch(/\bon\b/);
      expect(await bots.count()).toBe(4);
      expect(await buttons.count()).toBe(0);
      await p.clock.runFor(1300);
      await expect.poll(() => bots.count()).toBe(5);
      await expect.poll(() => buttons.allTextContents()).toContain('怎么使用');
    } finally {
      await paced.close();
    }
  });

  it('is usable in English with the keyboard alone', async () => {
    const english = await context.newPage();
    await english.goto(base);
    await english.evaluate(() => localStorage.clear());
    await english.reload();
    const emily = english.locator('#customers button', { hasText: 'Emily Chen' });
    await emily.focus();
    await english.keyboard.press('Enter');
    await expect.poll(() => english.locator('html').getAttribute('lang')).toBe('en');
    const input = english.getByLabel('Type your question');
    await expect.poll(() => input.evaluate((el) => el === document.activeElement)).toBe(true);
    await english.keyboard.type('Hello, I need help');
    await english.keyboard.press('Enter');
    await expect.poll(() => english.locator('#messages > li.bot').count()).toBeGreaterThanOrEqual(1);
    expect(await english.locator('#messages > li.bot .author').first().textContent()).toBe('Support assistant');
    expect(await english.locator('#messages > li.customer .author').first().textContent()).toBe('Me');
    expect(await english.locator('#messages').getAttribute('aria-live')).toBe('polite');
    await english.close();
    expect(await storedCustomerMessages('Hello, I need help')).toHaveLength(1);
  });
});
