import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../../src/db/seed.js';
import { launchChromium, serveOnLoopback, skipBrowserSuite } from '../support/browser.js';
import { testService } from '../support/service.js';

const SKIP = skipBrowserSuite('console login redirect browser test');

describe.skipIf(SKIP)('console login ?next= in Chromium', () => {
  let service: Awaited<ReturnType<typeof testService>>;
  let served: Awaited<ReturnType<typeof serveOnLoopback>>;
  let browser: Browser;

  beforeAll(async () => {
    service = await testService('pglite');
    served = await serveOnLoopback(service.app.fetch);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await service?.close();
  });

  async function loginWithNext(next: string): Promise<{ url: string; dialogs: string[] }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    // The console defaults to Chinese; ?lang=en gives the English labels this test clicks.
    await page.goto(`${served.base}/console/login?lang=en&next=${encodeURIComponent(next)}`);
    await page.fill('#email', 'agent1@kefu.demo');
    await page.fill('#password', DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    // Wait until the login script has navigated somewhere (or has had the chance to run script).
    await page.waitForURL((u) => !u.pathname.endsWith('/login'), { timeout: 5000 }).catch(() => {});
    await page.waitForLoadState('load');
    const url = page.url();
    await context.close();
    return { url, dialogs };
  }

  it.each(['javascript:alert(1)', 'https://evil.example/', '//evil.example/x', '/\\evil.example/x'])(
    'next=%s runs no script and stays on the site: the agent lands on /console',
    async (next) => {
      const { url, dialogs } = await loginWithNext(next);
      expect(dialogs).toEqual([]);
      expect(url).toBe(`${served.base}/console`);
    },
  );

  it('a same-origin path is followed', async () => {
    const { url } = await loginWithNext('/console?view=mine');
    expect(url).toBe(`${served.base}/console?view=mine`);
  });
});
