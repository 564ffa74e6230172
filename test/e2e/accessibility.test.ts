import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, launchChromium, serveOnLoopback, skipBrowserSuite } from '../support/browser.js';
import { testService } from '../support/service.js';

const SKIP = skipBrowserSuite('accessibility checks');

// Our consumers are often older first-time users: the pages must pass axe-core's WCAG 2.1 A/AA rules.
describe.skipIf(SKIP)('accessibility of the pages (axe-core, WCAG 2.1 A/AA)', () => {
  let service: Awaited<ReturnType<typeof testService>>;
  let served: Awaited<ReturnType<typeof serveOnLoopback>>;
  let base: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    service = await testService('pglite', { start: true });
    served = await serveOnLoopback(service.app.fetch);
    base = served.base;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 420, height: 860 }, locale: 'zh-CN' });
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await service?.close();
  });

  it('web chat: the demo customer picker and a conversation with quick replies', async () => {
    await page.goto(base);
    await page.locator('#customers button').first().waitFor();
    expect(await axeViolations(page)).toEqual([]);

    await page.locator('#customers button').first().click();
    const input = page.getByLabel('输入您的问题');
    await input.fill('我想退款');
    await input.press('Enter');
    await page.locator('#messages > li.bot').first().waitFor();
    await page.locator('#quick-replies button').first().waitFor();
    expect(await axeViolations(page)).toEqual([]);
  });

  it('console: the login page and the queue', async () => {
    await page.goto(`${base}/console`);
    await page.locator('input[name=email]').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.fill('input[name=email]', 'agent1@kefu.demo');
    await page.fill('input[name=password]', 'kefu-demo');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/console(\/|$|\?)/);
    await page.locator('button:has-text("退出登录")').waitFor();
    expect(await axeViolations(page)).toEqual([]);
  });

  it('would report a broken page (the check itself works)', async () => {
    await page.goto(`${base}/console`);
    await page.evaluate(() => {
      const input = document.createElement('input');
      input.type = 'text';
      document.body.append(input);
    });
    const found = await axeViolations(page);
    expect(found.map((v) => v.id)).toContain('label');
  });
});
