import { and, eq } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCustomerId } from '../../channels/webchat/index.js';
import { channelIdentities, conversations } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { launchChromium, serveOnLoopback, skipBrowserSuite } from '../support/browser.js';
import { loginAs } from '../support/console.js';
import { testService } from '../support/service.js';

const SKIP = skipBrowserSuite('widget layout browser tests');
const SECRET = 'host-secret';

/** Everything that would make the open widget unusable on a small or zoomed screen, measured in the page. */
function layoutProblems(page: Page) {
  return page.evaluate(() => {
    const root = document.getElementById('kefu-widget')?.shadowRoot;
    if (!root) return ['no widget'];
    const problems: string[] = [];
    const vw = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > vw) problems.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${vw}`);
    const input = root.getElementById('text') as HTMLTextAreaElement | HTMLInputElement | null;
    if (!input) return ['no input'];
    // The placeholder must fit the input's content box on one line.
    const cs = getComputedStyle(input);
    const ctx = document.createElement('canvas').getContext('2d')!;
    ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const needed = ctx.measureText(input.placeholder).width;
    const room = input.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    if (needed > room) problems.push(`placeholder "${input.placeholder}" needs ${needed.toFixed(0)} px, has ${room.toFixed(0)} px`);
    // Nothing visible in the widget sticks out of the viewport or of its own box sideways.
    for (const el of root.querySelectorAll<HTMLElement>('*')) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
      if (box.left < -0.5 || box.right > vw + 0.5) problems.push(`${el.tagName.toLowerCase()}#${el.id || el.className} spans ${box.left.toFixed(0)}–${box.right.toFixed(0)} of ${vw}`);
      if (el.scrollWidth > el.clientWidth + 1 && ['auto', 'scroll'].includes(getComputedStyle(el).overflowX)) problems.push(`${el.tagName.toLowerCase()}#${el.id || el.className} scrolls sideways`);
    }
    const send = root.getElementById('send')?.getBoundingClientRect();
    if (!send || send.bottom > window.innerHeight + 0.5 || send.top < 0) problems.push('send button not on screen');
    return problems;
  });
}

describe.skipIf(SKIP)('the widget on small and zoomed screens, and what it follows live, in Chromium', () => {
  let service: Awaited<ReturnType<typeof testService>>;
  let chat: Awaited<ReturnType<typeof serveOnLoopback>>;
  let shop: Awaited<ReturnType<typeof serveOnLoopback>>;
  let browser: Browser;

  beforeAll(async () => {
    let chatBase = '';
    // The shop's page: signed in as 王秀兰 (`?signed`), or an anonymous visitor.
    shop = await serveOnLoopback((request) => {
      const signed = new URL(request.url).searchParams.has('signed');
      const identity = signed ? `data-customer-id="${DEMO_SENIOR_CUSTOMER_ID}" data-signature="${signCustomerId(DEMO_SENIOR_CUSTOMER_ID, SECRET)}"` : '';
      return new Response(
        `<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>小店</title></head>
<body><main><h1>小店首页</h1></main><script src="${chatBase}/widget.js" data-locale="zh-Hans" ${identity} async></script></body></html>`,
        { headers: { 'content-type': 'text/html; charset=utf-8' } },
      );
    });
    service = await testService('pglite', { start: true, env: { WEBCHAT_IDENTITY_SECRET: SECRET, WEBCHAT_ALLOWED_ORIGINS: shop.base } });
    chat = await serveOnLoopback(service.app.fetch);
    chatBase = chat.base;
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await chat?.close();
    await shop?.close();
    await service?.close();
  });

  async function openWidget(viewport: { width: number; height: number }, deviceScaleFactor = 1, query = '') {
    const context = await browser.newContext({ viewport, deviceScaleFactor, locale: 'zh-CN' });
    const page = await context.newPage();
    await page.goto(`${shop.base}/${query}`);
    await page.locator('#launcher').click();
    await page.locator('#text').waitFor();
    return page;
  }

  async function sendAndSeeDelivered(page: Page, text: string) {
    await page.locator('#text').fill(text);
    await page.locator('#send').click();
    const mine = page.locator('#messages > li.customer', { hasText: text });
    await expect.poll(() => mine.locator('.receipt').textContent(), { timeout: 15_000 }).toBe('已送达');
  }

  // 320 CSS px is WCAG's reflow width (1280 px at 400 %); 200 % zoom of a 1280×800 window is 640×400 CSS px.
  for (const [name, viewport, scale] of [
    ['320 px wide', { width: 320, height: 640 }, 1],
    ['200 % zoom', { width: 640, height: 400 }, 2],
  ] as const) {
    it(`at ${name}: the placeholder is whole, nothing overflows sideways, and sending works`, async () => {
      const page = await openWidget(viewport, scale);
      expect(await layoutProblems(page)).toEqual([]);
      await sendAndSeeDelivered(page, `你好，我在${name}的屏幕上`);
      expect(await layoutProblems(page)).toEqual([]);
      await page.context().close();
    }, 60_000);
  }

  it('switches its own labels to English when the consumer writes "English please" in a Chinese conversation', async () => {
    const page = await openWidget({ width: 420, height: 800 });
    await expect.poll(() => page.locator('#send').textContent()).toBe('发送');
    expect(await page.locator('#text').getAttribute('placeholder')).toBe('在这里输入');
    await page.locator('#text').fill('English please');
    await page.locator('#send').click();
    await expect.poll(() => page.locator('#send').textContent(), { timeout: 15_000 }).toBe('Send');
    expect(await page.locator('#text').getAttribute('placeholder')).toBe('Type here');
    await page.context().close();
  }, 60_000);

  it('shows "seen by a support agent" only once an agent opened the case, live, and still after a reload', async () => {
    const page = await openWidget({ width: 420, height: 800 }, 1, '?signed');
    await sendAndSeeDelivered(page, '我要找人工客服');
    const mine = page.locator('#messages > li.customer', { hasText: '我要找人工客服' });
    const [identity] = await service.database.db
      .select({ conversationId: conversations.id })
      .from(conversations)
      .innerJoin(channelIdentities, eq(channelIdentities.id, conversations.channelIdentityId))
      .where(and(eq(channelIdentities.channel, 'webchat'), eq(channelIdentities.customerId, DEMO_SENIOR_CUSTOMER_ID)));
    // Nobody has looked yet: delivered, not seen (the bot's answers do not count).
    await service.settle();
    expect(await mine.locator('.receipt').textContent()).toBe('已送达');

    const agent = await loginAs(service, 'agent2@kefu.demo');
    const opened = await fetch(`${chat.base}/api/console/conversations/${identity!.conversationId}`, { headers: { authorization: `Bearer ${agent.token}` } });
    expect(opened.status).toBe(200);
    await expect.poll(() => mine.locator('.receipt').textContent(), { timeout: 15_000 }).toBe('人工客服已看到');
    const [marker] = await service.database.db.select({ at: conversations.agentSeenAt }).from(conversations).where(eq(conversations.id, identity!.conversationId));
    expect(marker!.at).not.toBeNull();

    await page.reload();
    if (!(await page.locator('#text').isVisible())) await page.locator('#launcher').click();
    await expect.poll(() => page.locator('#messages > li.customer', { hasText: '我要找人工客服' }).locator('.receipt').textContent(), { timeout: 15_000 }).toBe('人工客服已看到');

    // A newer message is only delivered until an agent looks again.
    await sendAndSeeDelivered(page, '还在吗？');
    await page.context().close();
  }, 90_000);
});
