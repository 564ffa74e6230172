import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webchatSessions } from '../../src/db/schema.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';

// Web chat remembers a verified session token for a few seconds (one database read less per
// message); it must never accept a token past its expiry, and a removed session stops working soon.
describe.each(backends())('web chat session memo on %s', (backend) => {
  let now = new Date('2026-11-22T10:00:00Z');
  const clock = { now: () => now };
  let service: Awaited<ReturnType<typeof testService>>;

  beforeAll(async () => {
    service = await testService(backend, { clock });
  });
  afterAll(async () => {
    await service?.close();
  });

  async function session(): Promise<string> {
    const res = await call(service, 'POST', '/api/webchat/sessions', { body: { locale: 'en' } });
    expect(res.status).toBe(201);
    return res.body.token as string;
  }

  it('rejects a token once it has expired, even right after it was used', async () => {
    const token = await session();
    expect((await call(service, 'GET', '/api/webchat/messages', { token })).status).toBe(200);
    now = new Date(now.getTime() + 30 * 24 * 3600_000 - 1000); // one second before expiry
    expect((await call(service, 'GET', '/api/webchat/messages', { token })).status).toBe(200);
    now = new Date(now.getTime() + 1000);
    expect((await call(service, 'GET', '/api/webchat/messages', { token })).status).toBe(401);
  });

  it('stops accepting a session removed from the database within seconds', async () => {
    const token = await session();
    expect((await call(service, 'GET', '/api/webchat/messages', { token })).status).toBe(200);
    await service.database.db.delete(webchatSessions);
    now = new Date(now.getTime() + 6000);
    expect((await call(service, 'GET', '/api/webchat/messages', { token })).status).toBe(401);
  });
});
