import { request } from 'node:http';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCustomerId } from '../../channels/webchat/index.js';
import { messages } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { serveOnLoopback } from '../support/browser.js';
import { call, testService } from '../support/service.js';

// Over a real socket, as a browser or a proxy sends them: with a Content-Length, and chunked.
describe('request body limit over HTTP', () => {
  let service: Awaited<ReturnType<typeof testService>>;
  let served: Awaited<ReturnType<typeof serveOnLoopback>>;
  let token: string;

  beforeAll(async () => {
    service = await testService('pglite', { env: { WEBCHAT_IDENTITY_SECRET: 'host-secret' } });
    served = await serveOnLoopback(service.app.fetch);
    const res = await call(service, 'POST', '/api/webchat/sessions', {
      body: { customerId: DEMO_SENIOR_CUSTOMER_ID, signature: signCustomerId(DEMO_SENIOR_CUSTOMER_ID, 'host-secret') },
    });
    token = res.body.token;
  });
  afterAll(async () => {
    await served?.close();
    await service?.close();
  });

  function post(body: string, chunked: boolean): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${served.base}/api/webchat/messages`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${token}`,
            ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(Buffer.byteLength(body)) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
        },
      );
      req.on('error', reject);
      if (chunked) {
        // Sent in pieces, with no length up front: the limit counts the bytes as they come.
        for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.slice(i, i + 16 * 1024));
        req.end();
      } else req.end(body);
    });
  }

  it.each([
    ['with a Content-Length', false],
    ['chunked', true],
  ])('refuses a body over 64 KiB sent %s with a 413 naming the problem, and stores nothing', async (_how, chunked) => {
    const text = '长'.repeat(40 * 1024); // 120 KiB of UTF-8
    const res = await post(JSON.stringify({ clientMessageId: `huge-${chunked}`, text }), chunked);
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'payload_too_large', message: expect.stringMatching(/65536 bytes/) });
    expect(await service.database.db.select({ id: messages.id }).from(messages).where(eq(messages.text, text))).toHaveLength(0);
  });

  it.each([
    ['with a Content-Length', false],
    ['chunked', true],
  ])('accepts an ordinary message sent %s', async (how, chunked) => {
    const res = await post(JSON.stringify({ clientMessageId: `ok-${chunked}`, text: `你好 (${how})` }), chunked);
    expect(res.status).toBe(202);
    const rows = await service.database.db.select({ text: messages.text }).from(messages).where(eq(messages.id, res.body.messageId));
    expect(rows).toEqual([{ text: `你好 (${how})` }]);
  });
});
