import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachmentBlobs, messages } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';

// The smallest valid-looking files: what matters is their first bytes (HEIC: a header only, undecodable).
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, ...Buffer.from('JFIF'), 0, 1, 2, 3]);
const PDF = new Uint8Array(Buffer.from('%PDF-1.7\n%…\n1 0 obj<<>>endobj\n'));
const HEIC = new Uint8Array([0, 0, 0, 0x18, ...Buffer.from('ftypheic'), 0, 0, 0, 0, ...Buffer.from('mif1heic')]);
const EXE = new Uint8Array(Buffer.from('MZ\x90\x00 this is not a photo'));

describe.each(backends())('web chat attachments, labels and CORS on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;

  beforeAll(async () => {
    service = await testService(backend, {
      env: { WEBCHAT_ALLOWED_ORIGINS: 'https://shop.example', ATTACHMENT_MAX_BYTES: String(64 * 1024) },
    });
  });
  afterAll(async () => {
    await service?.close();
  });

  async function session(body: Record<string, unknown> = {}) {
    const res = await call(service, 'POST', '/api/webchat/sessions', { body });
    expect(res.status).toBe(201);
    return res.body.token as string;
  }

  async function upload(token: string, bytes: Uint8Array, clientMessageId: string, name = 'photo.jpg') {
    const res = await service.app.request('/api/webchat/attachments', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'image/jpeg', // what the browser claims; the server looks at the bytes
        'x-client-message-id': clientMessageId,
        'x-file-name': encodeURIComponent(name),
      },
      body: Buffer.from(bytes),
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  it('stores a photo once per clientMessageId, shows it in the history, and serves it to its own session only', async () => {
    const token = await session();
    const first = await upload(token, JPEG, 'photo-1', '发票 照片.jpg');
    expect(first.status).toBe(202);
    const again = await upload(token, JPEG, 'photo-1', '发票 照片.jpg');
    expect(again.status).toBe(202);
    expect(again.body.messageId).toBe(first.body.messageId);
    expect(again.body.duplicate).toBe(true);
    const rows = await service.database.db.select({ id: attachmentBlobs.id }).from(attachmentBlobs);
    expect(rows.filter((r) => r.id === first.body.attachmentId)).toHaveLength(1);

    const history = await call(service, 'GET', '/api/webchat/messages', { token });
    const mine = history.body.messages.find((m: { id: string }) => m.id === first.body.messageId);
    expect(mine.attachments).toEqual([
      { id: first.body.attachmentId, kind: 'image', filename: '发票 照片.jpg', contentType: 'image/jpeg', size: JPEG.length },
    ]);

    const own = await service.app.request(`/api/webchat/attachments/${first.body.attachmentId}`, { headers: { authorization: `Bearer ${token}` } });
    expect(own.status).toBe(200);
    expect(own.headers.get('content-type')).toBe('image/jpeg');
    expect(new Uint8Array(await own.arrayBuffer())).toEqual(JPEG);

    const stranger = await session();
    const other = await call(service, 'GET', `/api/webchat/attachments/${first.body.attachmentId}`, { token: stranger });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('forbidden');
    const anonymous = await call(service, 'GET', `/api/webchat/attachments/${first.body.attachmentId}`);
    expect(anonymous.status).toBe(401);
  });

  it('converts an iPhone HEIC photo to JPEG and keeps it under a .jpg name', async () => {
    const token = await session();
    const real = new Uint8Array(readFileSync(join(import.meta.dirname, '../fixtures/images/gradient-64x48.heic')));
    const sent = await upload(token, real, 'heic-real-1', 'IMG_0002.HEIC');
    expect(sent.status).toBe(202);
    const [stored] = await service.database.db.select().from(messages).where(eq(messages.id, sent.body.messageId));
    expect(stored?.attachments[0]).toMatchObject({ kind: 'image', contentType: 'image/jpeg', filename: 'IMG_0002.jpg' });
    const own = await service.app.request(`/api/webchat/attachments/${sent.body.attachmentId}`, { headers: { authorization: `Bearer ${token}` } });
    expect(own.headers.get('content-type')).toBe('image/jpeg');
    expect([...new Uint8Array(await own.arrayBuffer()).slice(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
  });

  it('accepts a PDF by its content and refuses an unreadable HEIC, unknown types and files over the limit politely', async () => {
    const token = await session();
    const pdf = await upload(token, PDF, 'doc-1', 'receipt.jpg');
    expect(pdf.status).toBe(202);
    const [stored] = await service.database.db.select().from(messages).where(eq(messages.id, pdf.body.messageId));
    expect(stored?.attachments[0]).toMatchObject({ kind: 'document', contentType: 'application/pdf' });

    const heic = await upload(token, HEIC, 'heic-1', 'IMG_0001.HEIC');
    expect(heic.status).toBe(415);
    expect(heic.body.error).toMatchObject({ code: 'unsupported_media_type', details: { reason: 'heic' } });
    const exe = await upload(token, EXE, 'exe-1', 'photo.jpg');
    expect(exe.status).toBe(415);
    expect(exe.body.error.details).toEqual({ reason: 'type' });

    const big = new Uint8Array(64 * 1024 + 1);
    big.set(JPEG);
    const tooBig = await upload(token, big, 'big-1');
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error).toMatchObject({ code: 'payload_too_large', details: { maxBytes: 64 * 1024 } });
    const empty = await upload(token, new Uint8Array(0), 'empty-1');
    expect(empty.status).toBe(400);
  });

  it('lets a listed host origin call the API with a Bearer token, and no other origin', async () => {
    const preflight = await service.app.request('/api/webchat/messages', {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const evil = await service.app.request('/api/webchat/labels', { headers: { origin: 'https://evil.example' } });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const listed = await service.app.request('/api/webchat/labels', { headers: { origin: 'https://shop.example' } });
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    // The labels are cacheable: a cache must keep the answers to each origin, and to none, apart.
    expect(listed.headers.get('vary')).toBe('Origin');
    const sameSite = await service.app.request('/api/webchat/labels');
    expect(sameSite.status).toBe(200);
    expect(sameSite.headers.get('access-control-allow-origin')).toBeNull();
    expect(sameSite.headers.get('vary')).toBe('Origin');

    const script = await service.app.request('/widget.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('access-control-allow-origin')).toBe('*');
    expect(script.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const source = await script.text();
    expect(source).not.toContain('__KEFU_CSS__');
    expect(source).toContain('.kefu.senior');
  });

  it('serves the labels in three languages and tells the page its language and senior mode', async () => {
    const labels = await call(service, 'GET', '/api/webchat/labels');
    expect(labels.body.locales['zh-Hans'].askPerson).toBe('找人工客服');
    expect(labels.body.locales.en.senior).toBe('Large text');
    expect(labels.body.locales['zh-Hant'].send).toBe('發送');
    expect(labels.body.maxAttachmentBytes).toBe(64 * 1024);

    // 王秀兰 is a first-time user: her page opens in senior mode.
    const token = await session({ customerId: DEMO_SENIOR_CUSTOMER_ID, locale: 'zh-Hans' });
    const info = await call(service, 'GET', '/api/webchat/session', { token });
    expect(info.body).toEqual({ locale: 'zh-Hans', firstTimeUser: true });

    // "English please" switches the conversation, and the page reads the new language.
    await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: 'hi', text: '你好' } });
    await service.settle();
    await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: 'en', text: 'English please' } });
    await service.settle();
    const history = await call(service, 'GET', '/api/webchat/messages', { token });
    expect(history.body.locale).toBe('en');
    expect((await call(service, 'GET', '/api/webchat/session', { token })).body.locale).toBe('en');

    // The switch on the page changes the conversation's language too.
    const switched = await call(service, 'POST', '/api/webchat/locale', { token, body: { locale: 'zh-Hant' } });
    expect(switched.status).toBe(200);
    expect((await call(service, 'GET', '/api/webchat/session', { token })).body.locale).toBe('zh-Hant');
    const bad = await call(service, 'POST', '/api/webchat/locale', { token, body: { locale: 'fr' } });
    expect(bad.status).toBe(422);
  });
});
