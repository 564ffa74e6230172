import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmailAdapter, signEmailWebhook } from '../../channels/email/index.js';
import { parseEmail } from '../../channels/email/parse.js';
import { signCustomerId } from '../../channels/webchat/index.js';
import { rowsOf } from '../../src/db/client.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { backends } from '../support/db.js';
import { rawMail } from '../support/email.js';
import { call, testService } from '../support/service.js';
import { fakeBotApi } from './telegram-fake-bot-api.js';

const TG_SECRET = 'tg-secret';
const EMAIL_SECRET = 'email-secret';
const IDENTITY_SECRET = 'identity-secret';
const RUNS = 25;

const api = fakeBotApi();
beforeAll(() => api.listen());
afterAll(() => api.close());

describe.each(backends())('poison input never gets a 500 on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  let webchatToken = '';
  let smtpPort = 0;
  let nextUpdate = 880_000;

  beforeAll(async () => {
    service = await testService(backend, {
      start: true,
      env: {
        TELEGRAM_MODE: 'webhook',
        TELEGRAM_BOT_TOKEN: '123456:TEST-TOKEN',
        TELEGRAM_WEBHOOK_SECRET: TG_SECRET,
        EMAIL_WEBHOOK_SECRET: EMAIL_SECRET,
        EMAIL_FROM: 'support@kefu.example',
        SMTP_LISTEN_PORT: '0',
        HOST: '127.0.0.1',
        WEBCHAT_IDENTITY_SECRET: IDENTITY_SECRET,
      },
    });
    const session = await call(service, 'POST', '/api/webchat/sessions', {
      body: { customerId: DEMO_SENIOR_CUSTOMER_ID, signature: signCustomerId(DEMO_SENIOR_CUSTOMER_ID, IDENTITY_SECRET) },
    });
    webchatToken = session.body.token;
    smtpPort = (service.adapters.email as EmailAdapter).smtpPort ?? 0;
  });
  afterAll(async () => {
    await service?.close();
  });

  const telegram = (update: unknown) =>
    call(service, 'POST', '/api/telegram/webhook', {
      rawBody: typeof update === 'string' ? update : JSON.stringify(update),
      headers: { 'x-telegram-bot-api-secret-token': TG_SECRET, 'content-type': 'application/json' },
    });
  const emailWebhook = async (raw: Buffer | string) => {
    const body = Buffer.from(raw);
    const res = await service.app.request('/api/email/inbound', {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822', 'x-kefu-signature': signEmailWebhook(body, EMAIL_SECRET) },
      body,
    });
    return res.status;
  };
  const smtp = async (raw: string): Promise<number> => {
    const transport = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    try {
      await transport.sendMail({ envelope: { from: 'x@example.com', to: ['support@kefu.example'] }, raw });
      return 250;
    } catch (err) {
      return (err as { responseCode?: number }).responseCode ?? 0;
    } finally {
      transport.close();
    }
  };
  const deadLetters = async (channel: string) =>
    rowsOf<{ reason: string; payload_bytes: number }>(
      await service.database.db.execute(sql`select reason, payload_bytes from dead_letters where channel = ${channel} order by id`),
    );
  const privateMessage = (fields: Record<string, unknown>) => {
    nextUpdate += 1;
    return {
      update_id: nextUpdate,
      message: {
        message_id: nextUpdate,
        date: 1763802000,
        chat: { id: 4242, type: 'private' },
        from: { id: 4242, is_bot: false, first_name: 'Wang' },
        text: 'hi',
        ...fields,
      },
    };
  };

  it('web chat: NUL bytes in text or choice are refused with 400', async () => {
    const text = await call(service, 'POST', '/api/webchat/messages', { token: webchatToken, body: { clientMessageId: 'nul-1', text: 'a\u0000b' } });
    expect(text.status).toBe(400);
    const choice = await call(service, 'POST', '/api/webchat/messages', { token: webchatToken, body: { clientMessageId: 'nul-2', choice: 'x\u0000' } });
    expect(choice.status).toBe(400);
  });

  it('Telegram: NUL bytes in text and names, a date of 9000000000000000 and a 45-digit contact phone all answer 200', async () => {
    expect((await telegram(privateMessage({ text: '退款\u0000', from: { id: 4242, is_bot: false, first_name: 'W\u0000ang', last_name: '\u0000' } }))).status).toBe(200);
    expect((await telegram(privateMessage({ date: 9000000000000000 }))).status).toBe(200);
    const phone = '+86'.concat('1'.repeat(45));
    expect((await telegram(privateMessage({ text: undefined, contact: { phone_number: phone, first_name: 'Wang', user_id: 4242 } }))).status).toBe(200);
    const stored = rowsOf<{ text: string }>(await service.database.db.execute(sql`select text from messages where channel = 'telegram' and direction = 'in'`));
    expect(stored.map((r) => r.text)).toContain('退款');
  });

  it('Telegram: a body that is no update is acknowledged (200) and kept as a dead letter', async () => {
    expect((await telegram('{"update_id": ')).status).toBe(200);
    expect((await telegram({ message: { text: 'no update id' } })).status).toBe(200);
    expect((await deadLetters('telegram')).length).toBeGreaterThanOrEqual(2);
  });

  it('email: NUL bytes in subject and body are stored without them', async () => {
    const raw = rawMail({ from: 'nul@example.com', subject: 'sub\u0000ject', id: 'nul-mail@example.com', text: 'body\u0000text' });
    expect(await emailWebhook(raw)).toBe(202);
    const stored = rowsOf<{ text: string }>(await service.database.db.execute(sql`select text from messages where external_id = 'nul-mail@example.com'`));
    expect(stored[0]?.text).toBe('bodytext');
  });

  it('SMTP: 10,000 MIME parts and a 2 MB header get a permanent 554 and a dead letter; 50,000 nested divs are read', async () => {
    const boundary = 'b0undary';
    const parts = Array.from({ length: 10_000 }, (_, i) => `--${boundary}\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('');
    const many = `From: parts@example.com\r\nSubject: parts\r\nMessage-ID: <parts@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=${boundary}\r\n\r\n${parts}--${boundary}--\r\n`;
    expect(await smtp(many)).toBe(554);
    const bigHeader = `From: header@example.com\r\nSubject: big\r\nX-Junk: ${'a'.repeat(2 * 1024 * 1024)}\r\nMessage-ID: <header@example.com>\r\n\r\nhello\r\n`;
    expect(await smtp(bigHeader)).toBe(554);
    const nested = `From: divs@example.com\r\nSubject: divs\r\nMessage-ID: <divs@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${'<div>'.repeat(50_000)}我要退款${'</div>'.repeat(50_000)}\r\n`;
    expect([250, 554]).toContain(await smtp(nested));
    const letters = await deadLetters('email');
    expect(letters.map((l) => l.reason)).toEqual(expect.arrayContaining([expect.stringMatching(/parts/), expect.stringMatching(/header/)]));
    expect(Math.max(...letters.map((l) => l.payload_bytes))).toBeGreaterThan(2 * 1024 * 1024);
    // The same mail over the webhook: a 4xx, never a 5xx.
    expect(await emailWebhook(many)).toBe(422);
  }, 120_000);

  it('property: any JSON body to every web chat and console intake route answers below 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.record({ clientMessageId: fc.string(), text: fc.string({ unit: 'binary' }), choice: fc.string({ unit: 'binary' }) }, { requiredKeys: [] })), async (body) => {
        for (const path of ['/api/webchat/messages', '/api/webchat/sessions', '/api/auth/login']) {
          const res = await call(service, 'POST', path, { token: webchatToken, body });
          expect(res.status, `${path} ${JSON.stringify(body)}`).toBeLessThan(500);
        }
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('property: any Telegram update shape answers 200', async () => {
    const text = fc.string({ unit: 'binary', maxLength: 200 });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          text: fc.option(text),
          first_name: text,
          date: fc.oneof(fc.integer(), fc.constant(9000000000000000), fc.double()),
          phone: fc.option(fc.string({ maxLength: 60 })),
          chatType: fc.constantFrom('private', 'group', 'supergroup', '\u0000'),
        }),
        async (f) => {
          nextUpdate += 1;
          const update = {
            update_id: nextUpdate,
            message: {
              message_id: nextUpdate,
              date: f.date,
              chat: { id: 77, type: f.chatType },
              from: { id: 77, is_bot: false, first_name: f.first_name },
              ...(f.text === null ? {} : { text: f.text }),
              ...(f.phone === null ? {} : { contact: { phone_number: f.phone, user_id: 77 } }),
            },
          };
          expect((await telegram(update)).status).toBe(200);
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('property: any raw email to the webhook answers below 500, and the parser never throws', async () => {
    const header = fc.string({ unit: 'binary', maxLength: 300 });
    await fc.assert(
      fc.asyncProperty(header, header, fc.string({ unit: 'binary', maxLength: 2000 }), fc.uint8Array({ maxLength: 500 }), async (from, subject, body, junk) => {
        const raw = Buffer.concat([Buffer.from(`From: ${from}\r\nSubject: ${subject}\r\n\r\n${body}`), Buffer.from(junk)]);
        await expect(parseEmail(raw)).resolves.toBeDefined();
        const status = await emailWebhook(raw);
        expect(status).toBeLessThan(500);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});
