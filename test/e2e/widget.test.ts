import { count, eq, sql } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCustomerId } from '../../channels/webchat/index.js';
import { attachmentBlobs, messages } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { axeViolations, launchChromium, serveOnLoopback, skipBrowserSuite } from '../support/browser.js';
import { testService } from '../support/service.js';

const SKIP = skipBrowserSuite('widget browser tests');
const SECRET = 'host-secret';
// A real 1×1 PNG: the server checks content, the browser makes a preview of it.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

// The widget on a shop's page (another origin: a second loopback server), as 王秀兰 signed in there.
describe.skipIf(SKIP)('the embeddable widget on another site, in Chromium', () => {
  let service: Awaited<ReturnType<typeof testService>>;
  let chat: Awaited<ReturnType<typeof serveOnLoopback>>;
  let shop: Awaited<ReturnType<typeof serveOnLoopback>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    let chatBase = '';
    shop = await serveOnLoopback(
      () =>
        new Response(
          `<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8"><title>小店</title></head><body>
<main><h1>小店首页</h1><p><a href="#deals">今日优惠</a></p></main>
<script src="${chatBase}/widget.js" data-customer-id="${DEMO_SENIOR_CUSTOMER_ID}"
  data-signature="${signCustomerId(DEMO_SENIOR_CUSTOMER_ID, SECRET)}" data-position="right" async></script>
</body></html>`,
          { headers: { 'content-type': 'text/html; charset=utf-8' } },
        ),
    );
    service = await testService('pglite', {
      start: true,
      env: { WEBCHAT_IDENTITY_SECRET: SECRET, WEBCHAT_ALLOWED_ORIGINS: shop.base },
    });
    chat = await serveOnLoopback(service.app.fetch);
    chatBase = chat.base;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 420, height: 860 }, locale: 'zh-CN' });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(String(err)));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await chat?.close();
    await shop?.close();
    await service?.close();
  });

  /** The element focused inside the widget's shadow root: id and text. */
  const focused = () =>
    page.evaluate(() => {
      const active = document.getElementById('kefu-widget')?.shadowRoot?.activeElement;
      return { id: active?.id ?? '', text: active?.textContent?.trim() ?? '' };
    });

  /** Tabs (keyboard only) until the button with this label has focus, then presses Enter. */
  async function pressByKeyboard(label: string) {
    for (let i = 0; i < 40; i += 1) {
      if ((await focused()).text === label) return page.keyboard.press('Enter');
      await page.keyboard.press('Tab');
    }
    throw new Error(`no button "${label}" reached with Tab`);
  }
  const botTexts = () => page.locator('#messages > li.bot .bubble').allTextContents();
  const transcript = () =>
    page.locator('#messages > li').evaluateAll((lis) => lis.map((li) => `${li.querySelector('.author')?.textContent}: ${li.querySelector('.bubble')?.textContent}`));

  it('opens from the launcher and completes the account-help flow in senior mode with the keyboard only', async () => {
    await page.goto(shop.base);
    // The launcher is reached with Tab like any control of the host page.
    for (let i = 0; i < 5 && (await focused()).id !== 'launcher'; i += 1) await page.keyboard.press('Tab');
    expect(await focused()).toMatchObject({ id: 'launcher', text: expect.stringContaining('在线客服') });
    await page.keyboard.press('Enter');

    // She is flagged first-time: senior mode is on, big text, the help bar is there.
    const input = page.getByLabel('输入您的问题');
    await expect.poll(() => input.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(true);
    expect(await page.getByRole('switch', { name: '大字模式' }).isChecked()).toBe(true);
    expect(await input.evaluate((el) => Number.parseFloat(getComputedStyle(el).fontSize))).toBeGreaterThanOrEqual(22);
    // The permanent help bar (the greeting's menu may offer a person too).
    const askPerson = page.locator('#help-bar').getByRole('button', { name: '找人工客服' });
    expect((await askPerson.boundingBox())?.height).toBeGreaterThanOrEqual(56);
    expect(await page.locator('#help-bar').getByRole('button', { name: '请给我回电话' }).isVisible()).toBe(true);

    await page.keyboard.type('你好');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#quick-replies button').allTextContents(), { timeout: 15_000 }).toContain('注册和账户帮助');
    // One choice per line, the whole width, at least 56 px tall.
    const choice = await page.locator('#quick-replies button').first().boundingBox();
    const list = await page.locator('#quick-replies').boundingBox();
    expect(choice!.height).toBeGreaterThanOrEqual(56);
    expect(choice!.width).toBeGreaterThan(list!.width - 40);
    expect(await axeViolations(page)).toEqual([]);

    for (const [label, next] of [
      ['注册和账户帮助', '忘记密码'],
      ['忘记密码', '好了，下一步'],
      ['好了，下一步', '好了，下一步'],
      ['好了，下一步', '好了'],
    ] as const) {
      const before = (await botTexts()).length;
      await pressByKeyboard(label);
      await expect.poll(async () => (await botTexts()).length, { timeout: 15_000 }).toBeGreaterThan(before);
      await expect.poll(() => page.locator('#quick-replies button').allTextContents(), { timeout: 15_000 }).toContain(next);
    }
    await pressByKeyboard('好了');
    await expect.poll(async () => (await botTexts()).at(-1), { timeout: 15_000 }).toMatch(/太好了/);
    expect((await botTexts()).some((t) => t.includes('第 3 步'))).toBe(true);
    expect(await page.locator('#messages').getAttribute('aria-live')).toBe('polite');

    // Normal mode, switched with the keyboard, is remembered and also passes axe.
    for (let i = 0; i < 40 && (await focused()).id !== 'senior'; i += 1) await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Space');
    expect(await page.getByRole('switch', { name: '大字模式' }).isChecked()).toBe(false);
    expect(await page.locator('#help-bar').getByRole('button', { name: '找人工客服' }).isVisible()).toBe(false);
    expect(await axeViolations(page)).toEqual([]);
    // Escape closes the chat and gives the focus back to the launcher.
    await page.keyboard.press('Escape');
    expect((await focused()).id).toBe('launcher');
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('sends a photo the agent sees in the case view, refuses a 20 MB file, and shows the photo to no other session', async () => {
    await page.goto(shop.base);
    await page.locator('#launcher').click();
    const blobsBefore = (await service.database.db.select({ n: count() }).from(attachmentBlobs))[0]!.n;
    await page.locator('#file').setInputFiles({ name: '小票.png', mimeType: 'image/png', buffer: PNG });
    const sent = page.locator('#messages > li.customer img.photo');
    await expect.poll(() => sent.count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => page.locator('#messages > li.customer').last().locator('.receipt').textContent(), { timeout: 15_000 }).toBe('已送达');

    const [stored] = await service.database.db
      .select({ conversationId: messages.conversationId, attachments: messages.attachments })
      .from(messages)
      .where(sql`jsonb_array_length(${messages.attachments}) > 0`);
    const ref = String(stored!.attachments[0]!.ref);
    expect(stored!.attachments[0]).toMatchObject({ kind: 'image', contentType: 'image/png', filename: '小票.png' });

    // A 20 MB file is refused before it is sent, in words she understands.
    // (Made in the page: pushing 20 MB through the devtools protocol is slower than the test.)
    await page.locator('#file').evaluate((input) => {
      const picked = new DataTransfer();
      picked.items.add(new File([new Uint8Array(20 * 1024 * 1024)], 'scan.pdf', { type: 'application/pdf' }));
      (input as HTMLInputElement).files = picked.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await expect.poll(() => page.locator('#notice').textContent()).toBe('文件太大了。请发送 10 MB 以内的照片或 PDF 文件。');
    expect((await service.database.db.select({ n: count() }).from(attachmentBlobs))[0]!.n).toBe(blobsBefore + 1);

    // Another visitor's session gets 403 for her photo.
    const other = await fetch(`${chat.base}/api/webchat/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const { token } = (await other.json()) as { token: string };
    const stolen = await fetch(`${chat.base}/api/webchat/attachments/${ref}`, { headers: { authorization: `Bearer ${token}` } });
    expect(stolen.status).toBe(403);

    // The agent's case view shows the photo (served to staff only).
    const agent = await context.newPage();
    await agent.goto(`${chat.base}/console`);
    await agent.fill('input[name=email]', 'agent1@kefu.demo');
    await agent.fill('input[name=password]', 'kefu-demo');
    await agent.click('button[type=submit]');
    // Logged in: the header's log-out button (its label is in the agent's language).
    await agent.locator('button[data-action="logout"]').waitFor();
    await agent.goto(`${chat.base}/console?c=${stored!.conversationId}`);
    const photo = agent.locator(`#transcript img[src="/api/console/attachments/${ref}"]`);
    await expect.poll(() => photo.evaluate((img) => (img as HTMLImageElement).naturalWidth), { timeout: 10_000 }).toBe(1);
    await agent.close();
    expect((await fetch(`${chat.base}/api/console/attachments/${ref}`)).status).toBe(401);
  }, 120_000);

  it('keeps everything across a reload and a 10 s network cut, sending unsent messages once', async () => {
    await page.goto(shop.base);
    await page.locator('#launcher').click();
    // The chat already holds the earlier tests' messages: wait for the answer to this one.
    await expect.poll(() => page.locator('#messages > li.bot').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const answered = await page.locator('#messages > li.bot').count();
    await page.getByLabel('输入您的问题').fill('你好');
    await page.getByLabel('输入您的问题').press('Enter');
    await expect.poll(() => page.locator('#messages > li.bot').count(), { timeout: 15_000 }).toBeGreaterThan(answered);
    const before = await transcript();
    await page.reload();
    await page.locator('#launcher').click();
    await expect.poll(transcript, { timeout: 15_000 }).toEqual(before);

    // Offline for 10 s: what she types waits, then goes out once.
    await context.setOffline(true);
    if ('closeAllConnections' in chat.server) chat.server.closeAllConnections();
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/重新连接/);
    const input = page.getByLabel('输入您的问题');
    await input.fill('断网时写的');
    await input.press('Enter');
    await page.waitForTimeout(10_000);
    await context.setOffline(false);
    await expect.poll(() => page.locator('#messages > li.customer', { hasText: '断网时写的' }).locator('.receipt').textContent(), { timeout: 20_000 }).toBe('已送达');

    // A message the server never confirmed is kept across a reload and sent with the same id.
    await page.route('**/api/webchat/messages', (route) => (route.request().method() === 'POST' ? route.abort('connectionrefused') : route.fallback()));
    await input.fill('刷新前没发出去的');
    await input.press('Enter');
    await expect.poll(() => page.locator('#messages > li.failed').count(), { timeout: 10_000 }).toBe(1);
    await page.unroute('**/api/webchat/messages');
    await page.reload();
    await page.locator('#launcher').click();
    await expect
      .poll(() => page.locator('#messages > li.customer', { hasText: '刷新前没发出去的' }).locator('.receipt').textContent(), { timeout: 20_000 })
      .toBe('已送达');
    for (const text of ['断网时写的', '刷新前没发出去的']) {
      expect(await service.database.db.select({ id: messages.id }).from(messages).where(eq(messages.text, text))).toHaveLength(1);
    }
    expect(await page.locator('#messages > li.customer', { hasText: '刷新前没发出去的' }).count()).toBe(1);
  }, 120_000);
});
