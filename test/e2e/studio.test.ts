import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { and, asc, eq, gt } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messages } from '../../src/db/schema.js';
import { DEMO_PASSWORD, DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { launchChromium, serveOnLoopback, skipBrowserSuite } from '../support/browser.js';
import { testService } from '../support/service.js';

const SKIP = skipBrowserSuite('studio browser test');
/** Screenshots for the README's "Platform studio" section. */
// The README's screenshots are refreshed only on request (KEFU_DOCS_SCREENSHOTS=1); a plain test run leaves docs/ alone.
const DOCS = join(import.meta.dirname, process.env.KEFU_DOCS_SCREENSHOTS === '1' ? '../../docs' : '../../.tmp/screenshots');
const OLD = '会退回到您付款的账户';
const NEW = '将原路退回到您的付款账户';

describe.skipIf(SKIP)('platform studio in Chromium', () => {
  let service: Awaited<ReturnType<typeof testService>>;
  let served: Awaited<ReturnType<typeof serveOnLoopback>>;
  let base: string;
  let browser: Browser;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    service = await testService('pglite', { start: true });
    served = await serveOnLoopback(service.app.fetch);
    base = served.base;
    browser = await launchChromium();
    mkdirSync(DOCS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await service?.close();
  });

  async function loginPage(email: string, path: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`${email}: ${String(err)}`));
    await page.goto(`${base}${path}`);
    await page.waitForURL(/\/console\/login/);
    await page.fill('#email', email);
    await page.fill('#password', DEMO_PASSWORD);
    await page.locator('#login button[type=submit]').click();
    await page.waitForURL(`${base}${path}`);
    return page;
  }

  /** A conversation that started before the publish: a second web chat visitor of the same customer. */
  function earlierVisitor() {
    let n = 0;
    let lastSeq = 0;
    let buttons: { id: string; label: string }[] = [];
    return async (input: { text?: string; press?: string }) => {
      const q = input.press ? buttons.find((b) => b.label.includes(input.press ?? '')) : undefined;
      const r = await service.receive({
        channel: 'webchat',
        externalMessageId: `earlier/${(n += 1)}`,
        sender: { externalId: 'studio-e2e:earlier', customerId: DEMO_SENIOR_CUSTOMER_ID, displayName: '王秀兰' },
        text: q?.label ?? input.text ?? '',
        choice: q?.id ?? null,
        // A web chat visitor of a signed session, as the widget's are: refunds need a proven sender.
        identity: { level: 'proven', basis: 'signed_session' },
      });
      await service.settle();
      const out = await service.database.db
        .select()
        .from(messages)
        .where(and(eq(messages.conversationId, r.conversationId), eq(messages.direction, 'out'), gt(messages.seq, lastSeq)))
        .orderBy(asc(messages.seq));
      lastSeq = out.at(-1)?.seq ?? lastSeq;
      buttons = out.at(-1)?.quickReplies ?? buttons;
      return out.map((m) => m.text).join('\n');
    };
  }

  async function consumerRefund(consumer: Page): Promise<string> {
    await consumer.fill('#text', '我想退款');
    await consumer.locator('#send').click();
    const qr = consumer.locator('#quick-replies');
    await qr.getByRole('button', { name: /纪念日/ }).click({ timeout: 15_000 });
    await qr.getByRole('button', { name: /未使用/ }).click({ timeout: 15_000 });
    await expect.poll(() => consumer.locator('#messages > li.bot').last().textContent(), { timeout: 15_000 }).toContain('可以退款');
    const text = (await consumer.locator('#messages > li.bot').last().textContent()) ?? '';
    await qr.getByRole('button', { name: '先不退了' }).click({ timeout: 15_000 });
    await expect.poll(() => consumer.locator('#messages > li.bot').last().textContent(), { timeout: 15_000 }).not.toContain('可以退款');
    return text;
  }

  it('editor changes the refund sentence in the form, simulates it, updates the golden transcript; admin publishes; new chats get it; rollback restores', async () => {
    // Traffic the bot did not understand, for the list.
    for (const [who, text] of [['x', '帮我查一下明天的天气，电话13812345678'], ['y', '帮我查一下明天的天气吧'], ['z', '能不能帮我订一张去上海的火车票']]) {
      for (const [i, t] of ['你好', text ?? ''].entries()) {
        await service.receive({ channel: 'webchat', externalMessageId: `nu/${who}/${i}`, sender: { externalId: `nu:${who}`, customerId: DEMO_SENIOR_CUSTOMER_ID, displayName: null }, text: t, choice: null });
        await service.settle();
      }
    }
    await service.settle();

    const editor = await loginPage('editor@kefu.demo', '/admin/studio');
    expect(await editor.locator('table.docs').textContent()).toContain('flows/refund.yaml');
    await editor.goto(`${base}/admin/studio/doc?id=${encodeURIComponent('flows/refund.yaml')}`);
    // Form view: one sentence per locale, no YAML.
    const box = editor.getByRole('textbox', { name: 'confirm text zh-Hans' });
    const sentence = await box.inputValue();
    expect(sentence).toContain(OLD);
    await box.fill(sentence.replace(OLD, NEW));
    await editor.locator('tr', { has: box }).getByRole('button').click();
    await expect.poll(() => editor.locator('#result').textContent(), { timeout: 15_000 }).toMatch(/草稿已保存/);
    await editor.waitForLoadState('load');
    await expect.poll(() => editor.getByRole('textbox', { name: 'confirm text zh-Hans' }).inputValue(), { timeout: 15_000 }).toContain(NEW);
    // Editors draft and test; publishing is not theirs.
    expect(await editor.locator('[data-action="publish"]').count()).toBe(0);
    // The YAML view validates as you type and points at the line.
    await editor.getByRole('tab', { name: 'YAML / Markdown' }).click();
    const yaml = await editor.locator('#source').inputValue();
    await editor.locator('#source').fill(yaml.replace('action: refund.submit', 'action: refund.teleport'));
    await expect.poll(() => editor.locator('#problems').textContent(), { timeout: 15_000 }).toMatch(/第 \d+ 行.*unknown action "refund\.teleport"/);
    await editor.screenshot({ path: join(DOCS, 'studio-editor.png') });
    await editor.locator('#source').fill(yaml);
    await expect.poll(() => editor.locator('#problems').textContent(), { timeout: 15_000 }).toContain('没有问题');

    // The simulator runs the draft.
    await editor.goto(`${base}/admin/studio/simulator`);
    await expect.poll(() => editor.locator('#sim-customer option').count()).toBeGreaterThan(0);
    const senior = await editor.locator('#sim-customer option', { hasText: '王秀兰' }).getAttribute('value');
    await editor.selectOption('#sim-customer', senior ?? '');
    await editor.fill('#sim-text', '我想退款');
    await editor.locator('#sim-form button[type=submit]').click();
    await editor.locator('.qr-btn', { hasText: '纪念日' }).click({ timeout: 15_000 });
    await editor.locator('.qr-btn', { hasText: '未使用' }).click({ timeout: 15_000 });
    await expect.poll(() => editor.locator('#sim-log').textContent(), { timeout: 15_000 }).toContain(NEW);
    await editor.locator('.qr-btn', { hasText: '确认退款' }).click({ timeout: 15_000 });
    await expect.poll(() => editor.locator('[data-effect="refunds"]').textContent(), { timeout: 15_000 }).toBe('1');
    await editor.screenshot({ path: join(DOCS, 'studio-simulator.png') });

    // The golden transcript is updated in the studio.
    await editor.goto(`${base}/admin/studio/doc?id=${encodeURIComponent('transcripts/refund-happy.zh-Hans.yaml')}`);
    const transcript = await editor.locator('#source').inputValue();
    await editor.locator('#source').fill(transcript.replace(OLD, NEW));
    await editor.fill('#comment', 'clearer refund sentence');
    await editor.locator('[data-action="save"]').click();
    await expect.poll(() => editor.locator('#result').textContent(), { timeout: 15_000 }).toMatch(/草稿已保存/);

    await editor.goto(`${base}/admin/studio/not-understood`);
    expect(await editor.locator('table.nu').textContent()).toContain('天气');
    expect(await editor.locator('table.nu').textContent()).not.toContain('13812345678');
    await editor.screenshot({ path: join(DOCS, 'studio-not-understood.png') });

    // A conversation already in the refund flow before the publish.
    const earlier = earlierVisitor();
    await earlier({ text: '我想退款' });
    expect(await earlier({ press: '纪念日' })).toContain('要退哪一张券');

    const admin = await loginPage('admin@kefu.demo', '/admin/studio');
    await admin.locator('[data-action="publish-all"]').click();
    await expect.poll(() => admin.locator('#result').textContent(), { timeout: 60_000 }).toMatch(/已发布|Cannot/);
    expect(await admin.locator('#result').textContent()).toContain('已发布');

    expect(await earlier({ press: '未使用' })).toContain(OLD);
    const consumerContext = await browser.newContext({ viewport: { width: 420, height: 860 } });
    const consumer = await consumerContext.newPage();
    consumer.on('pageerror', (err) => pageErrors.push(`consumer: ${String(err)}`));
    await consumer.goto(base);
    await consumer.locator('#customers button', { hasText: '王秀兰' }).first().click();
    expect(await consumerRefund(consumer)).toContain(NEW);

    // Rollback in one action.
    await admin.goto(`${base}/admin/studio/doc?id=${encodeURIComponent('flows/refund.yaml')}`);
    await admin.getByRole('tab', { name: /历史版本/ }).click();
    await admin.locator('[data-action="rollback"][data-to="baseline"]').click();
    await expect.poll(() => admin.locator('#result').textContent(), { timeout: 15_000 }).toContain('已回滚');
    expect(await consumerRefund(consumer)).toContain(OLD);
    expect(pageErrors).toEqual([]);
  }, 300_000);
});
