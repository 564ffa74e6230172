import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, asc, eq } from 'drizzle-orm';
import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { attachmentBlobs, channelIdentities, conversations, messages } from '../../src/db/schema.js';
import { capturedLogger } from '../support/captured-log.js';
import { loginAs } from '../support/console.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';
import { fakeBotApi } from './telegram-fake-bot-api.js';

const TOKEN = '123456:FILES-TEST-TOKEN-abcdefghijklmnop';
const SECRET = 'webhook-s3cret';
const MAX = 64 * 1024;
const ENV = { TELEGRAM_MODE: 'webhook', TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: SECRET, ATTACHMENT_MAX_BYTES: String(MAX) };
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, ...Buffer.from('JFIF'), 0, 1, 2, 3, 4, 5, 6, 7]);
const HEIC = new Uint8Array(readFileSync(join(import.meta.dirname, '../fixtures/images/gradient-64x48.heic')));
const EXE = new Uint8Array(Buffer.from('MZ\x90\x00 this is not a photo at all'));

const api = fakeBotApi();
/** Files the fake Telegram serves at /file/bot<token>/<path>, and the downloads asked for. */
const files = new Map<string, Uint8Array | 'fail'>();
const downloads: string[] = [];
let gate: Promise<void> = Promise.resolve();

let nextUpdateId = 900_000;
function update(userId: number, content: Record<string, unknown>, language = 'zh-hans') {
  nextUpdateId += 1;
  const from = { id: userId, is_bot: false, first_name: 'Lin', language_code: language };
  return { update_id: nextUpdateId, message: { message_id: nextUpdateId, date: 1763802000, chat: { id: userId, type: 'private' }, from, ...content } };
}

beforeAll(() => {
  api.listen();
  api.server.use(
    http.get(/^https:\/\/api\.telegram\.org\/file\/bot([^/]+)\/(.+)$/, async ({ request }) => {
      const [, token, path] = /\/file\/bot([^/]+)\/(.+)$/.exec(new URL(request.url).pathname) ?? [];
      downloads.push(path ?? '');
      await gate;
      const bytes = token === TOKEN ? files.get(decodeURIComponent(path ?? '')) : undefined;
      if (!bytes) return new HttpResponse('Not Found', { status: 404 });
      if (bytes === 'fail') return new HttpResponse('Bad Gateway', { status: 502 });
      return new HttpResponse(bytes, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) } });
    }),
  );
});
afterEach(() => {
  api.reset();
  downloads.length = 0;
});
afterAll(() => api.close());

describe.each(backends())('Telegram photos and documents on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  const log = capturedLogger();

  beforeAll(async () => {
    service = await testService(backend, { env: ENV, logger: log.logger });
  });
  afterAll(async () => {
    await service?.close();
  });

  // getFile answers with a path per file_id, as Telegram does.
  function serveGetFile() {
    api.override((c) =>
      c.method === 'getFile' ? HttpResponse.json({ ok: true, result: { file_id: c.body.file_id, file_unique_id: 'u', file_path: `photos/${c.body.file_id}.bin` } }) : undefined,
    );
  }

  const post = (body: unknown) => call(service, 'POST', '/api/telegram/webhook', { body, headers: { 'x-telegram-bot-api-secret-token': SECRET } });

  async function inbound(userId: number) {
    const rows = await service.database.db
      .select({ message: messages })
      .from(messages)
      .innerJoin(conversations, eq(conversations.id, messages.conversationId))
      .innerJoin(channelIdentities, eq(channelIdentities.id, conversations.channelIdentityId))
      .where(and(eq(channelIdentities.externalId, String(userId)), eq(messages.direction, 'in')))
      .orderBy(asc(messages.seq));
    return rows.map((r) => r.message);
  }

  it('answers the webhook before the photo is downloaded, then keeps it for the agent like a web chat upload', async () => {
    serveGetFile();
    files.set('photos/ph-big.bin', JPEG);
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    const photo = [
      { file_id: 'ph-small', file_unique_id: 's', width: 90, height: 90, file_size: 10 },
      { file_id: 'ph-big', file_unique_id: 'b', width: 1280, height: 960, file_size: JPEG.length },
    ];
    // The download cannot finish until the gate opens: the 200 comes first, with the message already stored.
    const res = await post(update(8100001, { photo, caption: '菜里有头发' }));
    expect(res.status).toBe(200);
    const [stored] = await inbound(8100001);
    expect(stored!.text).toBe('菜里有头发');
    expect(stored!.attachments).toMatchObject([{ kind: 'image', ref: 'ph-big', fetch: true }]);
    open();
    await service.settle();

    const [after] = await inbound(8100001);
    const [entry] = after!.attachments as Record<string, any>[];
    expect(entry).toMatchObject({ kind: 'image', contentType: 'image/jpeg', size: JPEG.length, channelRef: 'ph-big' });
    expect(entry!.ref).toMatch(/^[0-9a-f-]{36}$/);
    expect(entry!.fetch).toBeUndefined();
    expect(api.calls.filter((c) => c.method === 'getFile').map((c) => c.body.file_id)).toEqual(['ph-big']);

    // The agent sees it in the case view and can open it.
    const staff = await loginAs(service, 'agent1@kefu.demo');
    const page = await service.app.request(`/console?c=${after!.conversationId}&view=waiting`, { headers: { authorization: `Bearer ${staff.token}` } });
    expect(await page.text()).toContain(`/api/console/attachments/${entry!.ref}`);
    const file = await service.app.request(`/api/console/attachments/${entry!.ref}`, { headers: { authorization: `Bearer ${staff.token}` } });
    expect(file.status).toBe(200);
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(JPEG);
  });

  it('refuses a document over ATTACHMENT_MAX_BYTES without downloading it, and says so in the consumer\'s language', async () => {
    serveGetFile();
    const res = await post(update(8100002, { document: { file_id: 'doc-huge', file_unique_id: 'h', file_name: 'scan.pdf', mime_type: 'application/pdf', file_size: 20 * 1024 * 1024 } }, 'en'));
    expect(res.status).toBe(200);
    await service.settle();
    const [stored] = await inbound(8100002);
    expect(stored!.attachments).toMatchObject([{ filename: 'scan.pdf', refused: 'too_big' }]);
    expect(api.calls.some((c) => c.method === 'getFile')).toBe(false);
    expect(downloads).toEqual([]);
    const told = api.sentTo(8100002).map((c) => c.body.text as string);
    expect(told.some((t) => t.includes('"scan.pdf" is too big') && t.includes('0.063 MB'))).toBe(true);
    expect(await service.database.db.select().from(attachmentBlobs).where(eq(attachmentBlobs.filename, 'scan.pdf'))).toEqual([]);
  });

  it('judges a document by its bytes: a HEIC photo becomes a JPEG, a program called photo.jpg is refused', async () => {
    serveGetFile();
    files.set('photos/doc-heic.bin', HEIC);
    files.set('photos/doc-exe.bin', EXE);
    await post(update(8100003, { document: { file_id: 'doc-heic', file_unique_id: 'x', file_name: 'IMG_0001.HEIC', mime_type: 'image/heic', file_size: HEIC.length } }));
    await post(update(8100003, { document: { file_id: 'doc-exe', file_unique_id: 'y', file_name: 'photo.jpg', mime_type: 'image/jpeg', file_size: EXE.length } }));
    await service.settle();
    const [heic, exe] = await inbound(8100003);
    expect(heic!.attachments).toMatchObject([{ kind: 'image', filename: 'IMG_0001.jpg', contentType: 'image/jpeg' }]);
    const [blob] = await service.database.db.select().from(attachmentBlobs).where(eq(attachmentBlobs.id, (heic!.attachments[0] as { ref: string }).ref));
    expect([...blob!.bytes!.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect(exe!.attachments).toMatchObject([{ filename: 'photo.jpg', refused: 'type', size: EXE.length }]);
    expect(exe!.attachments[0]).not.toHaveProperty('fetch');
  });

  it('stops at one download when a file whose size Telegram did not tell turns out over the limit', async () => {
    serveGetFile();
    const big = new Uint8Array(MAX + 1);
    big.set(JPEG);
    files.set('photos/ph-unsized.bin', big);
    await post(update(8100005, { photo: [{ file_id: 'ph-unsized', file_unique_id: 'w', width: 4000, height: 3000 }] }));
    await service.settle();
    const [stored] = await inbound(8100005);
    expect(stored!.attachments).toMatchObject([{ ref: 'ph-unsized', refused: 'too_big' }]);
    expect(downloads.filter((p) => p === 'photos/ph-unsized.bin')).toHaveLength(1);
  });

  it('retries a failing download, then notes it for the agent; the bot token appears in no log line and no column', async () => {
    serveGetFile();
    files.set('photos/ph-broken.bin', 'fail');
    await post(update(8100004, { photo: [{ file_id: 'ph-broken', file_unique_id: 'z', width: 10, height: 10, file_size: 100 }], caption: 'receipt' }));
    await service.settle();
    const [stored] = await inbound(8100004);
    expect(stored!.attachments).toMatchObject([{ ref: 'ph-broken', refused: 'unavailable' }]);
    expect(downloads.filter((p) => p === 'photos/ph-broken.bin')).toHaveLength(3);
    expect(stored!.processedAt).not.toBeNull(); // the text still got its turn
    const lines = log.text();
    expect(lines).toContain('attachment.fetch_failed');
    expect(lines).toContain('HTTP 502');
    expect(lines).not.toContain(TOKEN);
    expect(lines).not.toContain('FILES-TEST-TOKEN');
    const everything = JSON.stringify(await service.database.db.select().from(messages));
    expect(everything).not.toContain('FILES-TEST-TOKEN');
  });
});
