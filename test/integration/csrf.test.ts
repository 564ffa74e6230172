import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { consumerAsksForPerson, IDENTITY_SECRET, loginAs } from '../support/console.js';
import { backends } from '../support/db.js';
import { testService } from '../support/service.js';

// app.request() builds URLs on http://localhost, so that is the console's own origin here.
const OWN = 'http://localhost';

describe.each(backends())('cross-site request refusal (CSRF) on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  let cookie = '';
  let token = '';
  let notePath = '';

  beforeAll(async () => {
    service = await testService(backend, { env: { WEBCHAT_IDENTITY_SECRET: IDENTITY_SECRET, PUBLIC_URL: 'https://kefu.example.com' } });
    const login = await service.app.request('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: OWN },
      body: JSON.stringify({ email: 'agent1@kefu.demo', password: DEMO_PASSWORD }),
    });
    expect(login.status).toBe(200);
    cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    token = (await loginAs(service, 'agent1@kefu.demo')).token;
    const { conversationId } = await consumerAsksForPerson(service, DEMO_SENIOR_CUSTOMER_ID, { now: new Date() });
    notePath = `/api/console/conversations/${conversationId}/note`;
  });
  afterAll(async () => {
    await service?.close();
  });

  const post = (headers: Record<string, string>, body = JSON.stringify({ text: 'note' })) =>
    service.app.request(notePath, { method: 'POST', headers, body });

  it('refuses a text/plain form posted from another port of the same host with the session cookie', async () => {
    const res = await post({ cookie, 'content-type': 'text/plain', origin: 'http://localhost:8081', 'sec-fetch-site': 'same-site' }, '{"text":"x"}');
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('forbidden');
  });

  it('refuses JSON with the cookie from a foreign Origin', async () => {
    expect((await post({ cookie, 'content-type': 'application/json', origin: 'http://evil.example' })).status).toBe(403);
  });

  it('refuses a cookie request that shows no origin at all, and text/plain even from our own origin', async () => {
    expect((await post({ cookie, 'content-type': 'application/json' })).status).toBe(403);
    expect((await post({ cookie, 'content-type': 'text/plain', origin: OWN })).status).toBe(403);
    expect((await post({ cookie, 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' })).status).toBe(403);
  });

  it('accepts the console itself: JSON with our Origin, PUBLIC_URL as Origin, or Sec-Fetch-Site same-origin', async () => {
    expect((await post({ cookie, 'content-type': 'application/json', origin: OWN, 'sec-fetch-site': 'same-origin' })).status).toBe(201);
    expect((await post({ cookie, 'content-type': 'application/json', origin: 'https://kefu.example.com' })).status).toBe(201);
    expect((await post({ cookie, 'content-type': 'application/json; charset=utf-8', 'sec-fetch-site': 'same-origin' })).status).toBe(201);
  });

  it('leaves Bearer API clients alone (no Origin needed)', async () => {
    expect((await post({ authorization: `Bearer ${token}`, 'content-type': 'application/json' })).status).toBe(201);
  });

  it('refuses a cross-site login (login CSRF) but not a script logging in without Origin', async () => {
    const body = JSON.stringify({ email: 'agent2@kefu.demo', password: DEMO_PASSWORD });
    const cross = await service.app.request('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'http://evil.example' },
      body,
    });
    expect(cross.status).toBe(403);
    const crossJson = await service.app.request('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body,
    });
    expect(crossJson.status).toBe(403);
    const script = await service.app.request('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(script.status).toBe(200);
  });

  it('reads (GET) stay open to the cookie from anywhere: they change nothing', async () => {
    const res = await service.app.request('/api/console/me', { headers: { cookie, origin: 'http://evil.example' } });
    expect(res.status).toBe(200);
  });
});
