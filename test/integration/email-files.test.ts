import { readFileSync } from 'node:fs';
import { and, eq } from 'drizzle-orm';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmailAdapter } from '../../channels/email/index.js';
import { attachmentBlobs, messages } from '../../src/db/schema.js';
import { loginAs } from '../support/console.js';
import { backends } from '../support/db.js';
import { startSink } from '../support/email.js';
import { testService } from '../support/service.js';

const FROM = 'kefu 客服 <support@kefu.example>';
const MAX = 100 * 1024;
const fixture = (name: string) => readFileSync(new URL(`../fixtures/email/chatwoot/${name}.eml`, import.meta.url));

// Issue 14: email attachments are kept like web chat uploads (content-checked, ATTACHMENT_MAX_BYTES),
// delivered over real SMTP to the listener; what is not kept is noted for the agent and the sender told.
describe.each(backends())('email attachments on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  let sink: Awaited<ReturnType<typeof startSink>>;
  let smtpPort: number;

  beforeAll(async () => {
    sink = await startSink();
    service = await testService(backend, {
      start: true,
      env: { HOST: '127.0.0.1', SMTP_LISTEN_PORT: '0', SMTP_URL: `smtp://127.0.0.1:${sink.port}`, EMAIL_FROM: FROM, ATTACHMENT_MAX_BYTES: String(MAX) },
    });
    const email = service.adapters.email;
    if (!(email instanceof EmailAdapter) || email.smtpPort === null) throw new Error('email adapter not listening');
    smtpPort = email.smtpPort;
  });
  afterAll(async () => {
    await service?.close();
    await sink?.close();
  });

  const deliver = (raw: Buffer, from: string) =>
    createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true }).sendMail({ envelope: { from, to: ['support@kefu.example'] }, raw });

  async function stored(externalId: string) {
    const [row] = await service.database.db.select().from(messages).where(and(eq(messages.channel, 'email'), eq(messages.externalId, externalId)));
    if (!row) throw new Error(`${externalId} not stored`);
    return row;
  }

  async function caseView(conversationId: string) {
    const staff = await loginAs(service, 'agent1@kefu.demo');
    const page = await service.app.request(`/console?c=${conversationId}`, { headers: { authorization: `Bearer ${staff.token}` } });
    return { html: await page.text(), token: staff.token };
  }

  it('keeps a PDF that came by mail once, even when the mail is delivered twice, and shows it in the case view', async () => {
    const raw = fixture('chatwoot_inline_pdf_as_attachment');
    await deliver(raw, 'user@icloud.com');
    await deliver(raw, 'user@icloud.com'); // the sending server retried
    const message = await stored('827-314S13-SSS2310@example.com');
    const [entry] = message.attachments as Record<string, any>[];
    expect(entry).toMatchObject({ kind: 'document', filename: 'dummy.pdf', contentType: 'application/pdf', size: 13264 });
    expect(entry!.ref).toMatch(/^[0-9a-f-]{36}$/);
    const blobs = await service.database.db.select().from(attachmentBlobs).where(eq(attachmentBlobs.filename, 'dummy.pdf'));
    expect(blobs).toHaveLength(1);
    expect(Buffer.from(blobs[0]!.bytes!).subarray(0, 5).toString()).toBe('%PDF-');

    const { html, token } = await caseView(message.conversationId);
    expect(html).toContain(`/api/console/attachments/${entry!.ref}`);
    expect(html).toContain('dummy.pdf');
    const file = await service.app.request(`/api/console/attachments/${entry!.ref}`, { headers: { authorization: `Bearer ${token}` } });
    expect(file.headers.get('content-type')).toBe('application/pdf');
    expect((await file.arrayBuffer()).byteLength).toBe(13264);
  });

  it('notes a photo over the limit for the agent and tells the sender politely, by mail', async () => {
    await deliver(fixture('chatwoot_html_and_attachment'), 'tejaswini@example.com');
    const message = await stored('6215d6ad2a3c9_10bc619140221a@tejaswinis-MacBook-Pro.local.mail');
    expect(message.attachments).toMatchObject([{ filename: '1610894557447.jpg', size: 172081, refused: 'too_big' }]);
    expect(await service.database.db.select().from(attachmentBlobs).where(eq(attachmentBlobs.filename, '1610894557447.jpg'))).toEqual([]);
    await service.settle();
    const told = sink.received.filter((m) => m.to && JSON.stringify(m.to).includes('tejaswini@example.com'));
    expect(told.some((m) => (m.text ?? '').includes('"1610894557447.jpg" is too big') && (m.text ?? '').includes('0.098 MB'))).toBe(true);
    const { html } = await caseView(message.conversationId);
    // The agent's console speaks Chinese (agent1's language).
    expect(html).toContain('1610894557447.jpg 未保存：超过大小上限（0.2 MB）。已告知客户。');
  });

  it('judges attachments by their bytes, not their names: a program called invoice.pdf is refused', async () => {
    const mail = createTransport({ streamTransport: true, buffer: true });
    const built = await mail.sendMail({
      from: '李先生 <li@example.com>',
      to: 'support@kefu.example',
      subject: '发票',
      messageId: '<invoice-1@example.com>',
      text: '请看附件里的发票',
      attachments: [{ filename: 'invoice.pdf', contentType: 'application/pdf', content: Buffer.from('MZ\x90\x00 this is a program') }],
    });
    await deliver(built.message as Buffer, 'li@example.com');
    const message = await stored('invoice-1@example.com');
    expect(message.attachments).toMatchObject([{ filename: 'invoice.pdf', refused: 'type' }]);
    await service.settle();
    const told = sink.received.filter((m) => JSON.stringify(m.to ?? '').includes('li@example.com'));
    expect(told.some((m) => (m.text ?? '').includes('文件“invoice.pdf”的格式我们打不开'))).toBe(true);
  });
});
