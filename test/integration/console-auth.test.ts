import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/ports.js';
import { agentSessions, auditLog } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { consumerAsksForPerson, IDENTITY_SECRET, loginAs, webchatSession } from '../support/console.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';

type Role = 'agent' | 'manager' | 'admin';
interface Route {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** A role that must be refused (403), if any. */
  wrongRole?: Role;
  page?: boolean;
}

const CASE = '00000000-0000-4000-8000-000000000001';
const AGENT = '00000000-0000-4000-8000-000000000002';

/** Every console route; the lowest role each needs decides which role is "wrong". */
const ROUTES: Route[] = [
  { method: 'POST', path: '/api/auth/logout' },
  { method: 'GET', path: '/api/console/me' },
  { method: 'GET', path: '/api/console/queue?view=waiting' },
  { method: 'GET', path: '/api/console/queue?view=mine' },
  { method: 'GET', path: '/api/console/queue?view=escalated', wrongRole: 'agent' },
  { method: 'GET', path: `/api/console/conversations/${CASE}` },
  { method: 'POST', path: `/api/console/conversations/${CASE}/claim` },
  { method: 'POST', path: `/api/console/conversations/${CASE}/reply`, body: { text: 'hi' } },
  { method: 'POST', path: `/api/console/conversations/${CASE}/note`, body: { text: 'hi' } },
  { method: 'POST', path: `/api/console/conversations/${CASE}/transfer`, body: { toAgentId: AGENT } },
  { method: 'POST', path: `/api/console/conversations/${CASE}/accept` },
  { method: 'POST', path: `/api/console/conversations/${CASE}/reassign`, body: { toAgentId: AGENT }, wrongRole: 'agent' },
  { method: 'POST', path: `/api/console/conversations/${CASE}/escalate`, body: { note: 'why' } },
  { method: 'POST', path: `/api/console/conversations/${CASE}/resolve`, body: { code: 'explained' } },
  { method: 'POST', path: `/api/console/refunds/${CASE}/decision`, body: { decision: 'deny' } },
  { method: 'GET', path: '/api/console/metrics', wrongRole: 'agent' },
  { method: 'GET', path: '/api/console/search?q=13800' },
  { method: 'GET', path: '/api/console/notifications' },
  { method: 'GET', path: '/api/console/agents' },
  { method: 'GET', path: '/api/console/events' },
  { method: 'GET', path: '/console', page: true },
  { method: 'GET', path: '/console/dashboard', page: true, wrongRole: 'agent' },
  { method: 'GET', path: '/admin', page: true, wrongRole: 'manager' },
];

describe.each(backends())('console authentication and roles on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  const clock = new FakeClock(new Date('2026-11-23T09:00:00Z'));
  const tokens: Partial<Record<Role, string>> = {};
  let consumerToken = '';
  let expiredToken = '';

  beforeAll(async () => {
    service = await testService(backend, { clock, env: { WEBCHAT_IDENTITY_SECRET: IDENTITY_SECRET, SESSION_TTL_HOURS: '8' } });
    tokens.agent = (await loginAs(service, 'agent1@kefu.demo')).token;
    tokens.manager = (await loginAs(service, 'manager@kefu.demo')).token;
    tokens.admin = (await loginAs(service, 'admin@kefu.demo')).token;
    consumerToken = await webchatSession(service, DEMO_SENIOR_CUSTOMER_ID);
    // A session of agent2 that outlived SESSION_TTL_HOURS.
    const old = await loginAs(service, 'agent2@kefu.demo');
    clock.advance(8 * 3600_000 + 1000);
    expiredToken = old.token;
    for (const role of ['agent', 'manager', 'admin'] as const) {
      const fresh = await loginAs(service, `${role === 'agent' ? 'agent1' : role}@kefu.demo`);
      tokens[role] = fresh.token;
    }
  });
  afterAll(async () => {
    await service?.close();
  });

  const request = (route: Route, token?: string) =>
    call(service, route.method, route.path, { ...(token ? { token } : {}), ...(route.body ? { body: route.body } : {}) });

  describe.each(ROUTES)('$method $path', (route) => {
    const refused = (res: { status: number; body: any; }) => {
      if (route.page) {
        expect(res.status).toBe(302);
      } else {
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('unauthorized');
      }
    };
    it('refuses a request without a token', async () => refused(await request(route)));
    it('refuses a web chat consumer token', async () => refused(await request(route, consumerToken)));
    it('refuses an expired session', async () => refused(await request(route, expiredToken)));
  });

  describe.each(ROUTES.filter((r) => r.wrongRole !== undefined))('$method $path', (route) => {
    it(`refuses the wrong role (${route.wrongRole})`, async () => {
      const res = await request(route, tokens[route.wrongRole!]);
      expect(res.status).toBe(403);
      if (!route.page) expect(res.body.error.code).toBe('forbidden');
    });
  });

  it('lets the right roles in: pages render, manager routes answer managers', async () => {
    expect((await call(service, 'GET', '/console', { token: tokens.agent })).status).toBe(200);
    expect((await call(service, 'GET', '/console/dashboard', { token: tokens.manager })).status).toBe(200);
    expect((await call(service, 'GET', '/admin', { token: tokens.admin })).status).toBe(200);
    expect((await call(service, 'GET', '/api/console/metrics', { token: tokens.manager })).status).toBe(200);
    expect((await call(service, 'GET', '/api/console/queue?view=escalated', { token: tokens.admin })).status).toBe(200);
    expect((await call(service, 'GET', '/console/login')).status).toBe(200);
  });

  it('logs in with a cookie (HttpOnly, SameSite=Lax) that opens the pages, audits it, and logout ends it', async () => {
    const res = await service.app.request('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'agent3@kefu.demo', password: 'kefu-demo' }),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^kefu_session=ks_/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    const pair = cookie.split(';')[0]!;
    const page = await service.app.request('/console', { headers: { cookie: pair } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Alex Zhou');
    const { token } = (await res.json()) as { token: string };
    // Stored hashed, never in clear.
    const stored = await service.database.db.select().from(agentSessions);
    expect(stored.some((s) => s.tokenHash === token)).toBe(false);
    const logins = await service.database.db.select().from(auditLog).where(eq(auditLog.action, 'auth.login'));
    expect(logins.length).toBeGreaterThanOrEqual(5);
    expect((await call(service, 'POST', '/api/auth/logout', { token })).status).toBe(200);
    expect((await call(service, 'GET', '/api/console/me', { token })).status).toBe(401);
  });

  it('refuses a wrong password and rate-limits repeated failures per email', async () => {
    const attempt = (password: string) => call(service, 'POST', '/api/auth/login', { body: { email: 'agent2@kefu.demo', password } });
    for (let i = 0; i < 5; i += 1) expect((await attempt(`wrong-${i}`)).status).toBe(401);
    const limited = await attempt('kefu-demo');
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    // Another account is not affected; after the window the right password works again.
    expect((await call(service, 'POST', '/api/auth/login', { body: { email: 'agent3@kefu.demo', password: 'kefu-demo' } })).status).toBe(200);
    clock.advance(16 * 60_000);
    expect((await attempt('kefu-demo')).status).toBe(200);
  });

  it('a consumer token cannot act on a real case either', async () => {
    const { conversationId } = await consumerAsksForPerson(service, DEMO_SENIOR_CUSTOMER_ID, { now: clock.now() });
    const res = await call(service, 'POST', `/api/console/conversations/${conversationId}/claim`, { token: consumerToken });
    expect(res.status).toBe(401);
  });
});
