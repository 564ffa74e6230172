import { sql } from 'drizzle-orm';
import { HttpResponse } from 'msw';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signEmailWebhook } from '../../channels/email/index.js';
import { signCustomerId } from '../../channels/webchat/index.js';
import { rowsOf } from '../../src/db/client.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { capturedLogger } from '../support/captured-log.js';
import { backends } from '../support/db.js';
import { rawMail } from '../support/email.js';
import { call, testService } from '../support/service.js';
import { fakeBotApi } from './telegram-fake-bot-api.js';

// Planted secrets: a bot token, a mainland ID number, a bank card number, and a marker for "the message text".
const BOT_TOKEN = '7412589630:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw8';
const TOKEN_SECRET_PART = 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw8';
const ID_NUMBER = '110101199003071234';
const CARD = '6222021234567890123';
const MARKER = 'planted-marker-q7x';
const WEBHOOK_SECRET = 'tg-webhook-secret';
const EMAIL_SECRET = 'email-secret';
const IDENTITY_SECRET = 'identity-secret';

const api = fakeBotApi();
beforeAll(() => api.listen());
afterAll(() => api.close());

async function dump(service: Awaited<ReturnType<typeof testService>>): Promise<string> {
  const db = service.database.db;
  const parts: unknown[] = [];
  for (const q of [
    sql`select delivery_error, text, original from messages`,
    sql`select last_error from outbox`,
    sql`select thread from conversations`,
    sql`select unreachable_reason from channel_identities`,
  ]) {
    parts.push(rowsOf(await db.execute(q)));
  }
  return JSON.stringify(parts);
}

describe.each(backends())('no secrets or personal data in logs and error columns on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  const log = capturedLogger();

  beforeAll(async () => {
    service = await testService(backend, {
      logger: log.logger,
      start: true,
      env: {
        TELEGRAM_MODE: 'webhook',
        TELEGRAM_BOT_TOKEN: BOT_TOKEN,
        TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
        EMAIL_WEBHOOK_SECRET: EMAIL_SECRET,
        EMAIL_FROM: 'support@kefu.example',
        WEBCHAT_IDENTITY_SECRET: IDENTITY_SECRET,
        OUTBOX_MAX_ATTEMPTS: '2',
      },
    });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('a Bot API network failure leaves the bot token out of warn logs, delivery_error and last_error', async () => {
    api.override((c) => (c.method === 'sendMessage' ? HttpResponse.error() : undefined));
    const res = await service.app.request('/api/telegram/webhook', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET },
      body: JSON.stringify({
        update_id: 9001,
        message: { message_id: 1, date: 1763802000, chat: { id: 5551, type: 'private' }, from: { id: 5551, is_bot: false, first_name: 'Li' }, text: '你好' },
      }),
    });
    expect(res.status).toBe(200);
    await expect
      .poll(async () => rowsOf<{ n: number }>(await service.database.db.execute(sql`select count(*)::int as n from outbox where last_error is not null`))[0]?.n, {
        timeout: 20_000,
      })
      .toBeGreaterThan(0);
    const stored = await dump(service);
    expect(stored).toContain('telegram unreachable');
    expect(stored).not.toContain(TOKEN_SECRET_PART);
    expect(log.text()).toMatch(/outbox\.(retry|failed)/);
    expect(log.text()).not.toContain(TOKEN_SECRET_PART);
  });

  it('request.failed logs no SQL parameters: no message text, ID or card number', async () => {
    const signature = signCustomerId(DEMO_SENIOR_CUSTOMER_ID, IDENTITY_SECRET);
    const session = await call(service, 'POST', '/api/webchat/sessions', { body: { customerId: DEMO_SENIOR_CUSTOMER_ID, signature } });
    expect(session.status).toBe(201);
    // Make the next message insert fail inside PostgreSQL, the way an outage or a bug would.
    await service.database.db.execute(sql`alter table messages add constraint redaction_test_refuse check (text not like '%planted%') not valid`);
    try {
      const res = await call(service, 'POST', '/api/webchat/messages', {
        token: session.body.token,
        body: { clientMessageId: 'redaction-1', text: `${MARKER} 身份证 ${ID_NUMBER} 卡号 ${CARD}` },
      });
      expect(res.status).toBeGreaterThanOrEqual(500);
    } finally {
      await service.database.db.execute(sql`alter table messages drop constraint redaction_test_refuse`);
    }
    const text = log.text();
    expect(text).toContain('request.failed');
    expect(text).not.toContain(MARKER);
    expect(text).not.toContain(ID_NUMBER);
    expect(text).not.toContain(CARD);
  });

  it('an email subject with an ID and a card number is masked in conversations.thread and never logged', async () => {
    const raw = rawMail({
      from: 'Emily <emily.chen@example.com>',
      subject: `退款 身份证 ${ID_NUMBER} 卡号 ${CARD}`,
      id: 'redaction-subject@example.com',
      text: '请帮我退款',
    });
    const res = await service.app.request('/api/email/inbound', {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822', 'x-kefu-signature': signEmailWebhook(Buffer.from(raw), EMAIL_SECRET) },
      body: raw,
    });
    expect(res.status).toBe(202);
    await service.settle();
    const stored = await dump(service);
    expect(stored).toContain('退款');
    expect(stored).not.toContain(ID_NUMBER);
    expect(stored).not.toContain(CARD);
    expect(log.text()).not.toContain(ID_NUMBER);
    expect(log.text()).not.toContain(CARD);
  });
});
