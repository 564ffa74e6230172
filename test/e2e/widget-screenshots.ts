// Takes the README's widget screenshots (docs/screenshots/widget-*.png): the widget open on a host
// page of another origin, in normal and senior mode, zh-Hans and en. Run: npx tsx test/e2e/widget-screenshots.ts
import { signCustomerId } from '../../channels/webchat/index.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { loadConfig } from '../../src/config.js';
import { migrateDatabase, openDatabase } from '../../src/db/client.js';
import { seedDemoData } from '../../src/db/seed.js';
import { silentLogger } from '../../src/logger.js';
import { createService } from '../../src/service.js';
import { launchChromium, serveOnLoopback } from '../support/browser.js';

const SECRET = 'screenshot-secret';
let chatBase = '';
let locale = 'zh-Hans';
const shop = await serveOnLoopback(
  () =>
    new Response(
      `<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><title>Shop</title>
<style>body{font:18px system-ui,"Noto Sans CJK SC",sans-serif;margin:0;background:#fafaf9}main{padding:32px 40px;max-width:420px}</style></head><body>
<main><h1>${locale === 'en' ? 'Corner Shop' : '街角小店'}</h1><p>${locale === 'en' ? 'Today’s deals are below.' : '今日优惠在下面。'}</p></main>
<script src="${chatBase}/widget.js" data-locale="${locale}" ${locale === 'en' ? '' : `data-customer-id="${DEMO_SENIOR_CUSTOMER_ID}" data-signature="${signCustomerId(DEMO_SENIOR_CUSTOMER_ID, SECRET)}"`}></script>
</body></html>`,
      { headers: { 'content-type': 'text/html; charset=utf-8' } },
    ),
);
const database = await openDatabase({ kind: 'pglite', dataDir: null });
await migrateDatabase(database);
await seedDemoData(database.db, { now: new Date() });
const config = loadConfig({ DATABASE_URL: 'pglite://memory', DEMO_MODE: 'true', LOG_LEVEL: 'silent', OUTBOX_POLL_MS: '50', WEBCHAT_IDENTITY_SECRET: SECRET, WEBCHAT_ALLOWED_ORIGINS: shop.base });
const service = await createService({ config, logger: silentLogger, database, seedIfEmpty: false });
await service.start();
const chat = await serveOnLoopback(service.app.fetch);
chatBase = chat.base;
const browser = await launchChromium();
try {
  for (const lang of (process.argv[2] ? [process.argv[2]] : ['zh-Hans', 'en']) as ('zh-Hans' | 'en')[]) {
    locale = lang;
    for (const senior of [false, true]) {
      const context = await browser.newContext({ viewport: { width: 900, height: 860 }, locale: lang === 'en' ? 'en-US' : 'zh-CN' });
      const page = await context.newPage();
      await page.goto(shop.base);
      await page.locator('#launcher').click();
      const toggle = page.locator('#senior');
      await page.locator('#text').waitFor();
      await page.waitForTimeout(500);
      if ((await toggle.isChecked()) !== senior) await toggle.click();
      await page.locator('#text').fill(lang === 'en' ? 'Hello' : '你好');
      await page.locator('#text').press('Enter');
      await page.locator('#quick-replies button').first().waitFor({ timeout: 20_000 });
      await page.waitForTimeout(800);
      await page.screenshot({ path: `docs/screenshots/widget-${lang}-${senior ? 'senior' : 'normal'}.png` });
      await context.close();
    }
  }
} finally {
  await browser.close();
  await chat.close();
  await shop.close();
  await service.stop();
  await database.close();
}
