import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/ports.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { consumerAsksForPerson, IDENTITY_SECRET, loginAs } from '../support/console.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';

const PRINCIPALS = ['anonymous', 'webchat', 'expired', 'agent', 'otherAgent', 'owner', 'manager', 'admin'] as const;
type Principal = (typeof PRINCIPALS)[number];
const STAFF: Principal[] = ['agent', 'otherAgent', 'owner', 'manager', 'admin'];
const MANAGERS: Principal[] = ['manager', 'admin'];
const CASE_ACTORS: Principal[] = ['owner', 'manager', 'admin'];
const NOT_CONSOLE: Principal[] = ['anonymous', 'webchat', 'expired'];

interface Route {
  method: 'GET' | 'POST';
  /** `:case` is the owned case, `:owner` / `:agent` agent ids. */
  path: string;
  body?: Record<string, string>;
  allowed: Principal[];
  page?: boolean;
  stream?: boolean;
  /** Who is not logged in to the console gets this (default 401; pages redirect to the login). */
  anonymousStatus?: number;
}

/**
 * Every console, admin and web chat route. "Allowed" means the request passes authentication and
 * authorization (its answer may still be 404 or 409 for the state the case is in); everyone else
 * gets 401 (no console session: none, a web chat token, an expired one), 403 (the wrong console
 * user) or, for pages, a redirect to the login page. Routes that change the case come last, and
 * within a route the refused principals ask first, so the case is still as described.
 */
const ROUTES: Route[] = [
  { method: 'GET', path: '/api/console/me', allowed: STAFF },
  { method: 'GET', path: '/api/console/queue?view=waiting', allowed: STAFF },
  { method: 'GET', path: '/api/console/queue?view=mine', allowed: STAFF },
  { method: 'GET', path: '/api/console/queue?view=escalated', allowed: MANAGERS },
  { method: 'GET', path: '/api/console/conversations/:case', allowed: STAFF },
  { method: 'GET', path: '/api/console/search?q=13800', allowed: STAFF },
  { method: 'GET', path: '/api/console/notifications', allowed: STAFF },
  { method: 'GET', path: '/api/console/agents', allowed: STAFF },
  { method: 'GET', path: '/api/console/metrics', allowed: MANAGERS },
  { method: 'GET', path: '/api/console/events', allowed: STAFF, stream: true },
  { method: 'GET', path: '/console', allowed: STAFF, page: true },
  { method: 'GET', path: '/console/dashboard', allowed: MANAGERS, page: true },
  { method: 'GET', path: '/admin', allowed: ['admin'], page: true },
  { method: 'GET', path: '/console/login', allowed: [...PRINCIPALS], page: true },
  { method: 'GET', path: '/api/webchat/messages', allowed: ['webchat'] },
  { method: 'POST', path: '/api/webchat/messages', body: { clientMessageId: 'matrix', text: '你好' }, allowed: ['webchat'] },
  { method: 'POST', path: '/api/console/conversations/:case/claim', allowed: STAFF },
  { method: 'POST', path: '/api/console/conversations/:case/note', body: { text: 'note' }, allowed: STAFF },
  { method: 'POST', path: '/api/console/conversations/:case/reply', body: { text: 'hello' }, allowed: CASE_ACTORS },
  { method: 'POST', path: '/api/console/refunds/00000000-0000-4000-8000-000000000009/decision', body: { decision: 'deny' }, allowed: STAFF },
  // Nobody has been offered the case yet: accepting is nobody's to do.
  { method: 'POST', path: '/api/console/conversations/:case/accept', allowed: [] },
  { method: 'POST', path: '/api/console/conversations/:case/reassign', body: { toAgentId: ':owner' }, allowed: MANAGERS },
  { method: 'POST', path: '/api/console/conversations/:case/transfer', body: { toAgentId: ':agent' }, allowed: CASE_ACTORS },
  { method: 'POST', path: '/api/console/conversations/:case/escalate', body: { note: 'why' }, allowed: CASE_ACTORS },
  { method: 'POST', path: '/api/console/conversations/:case/resolve', body: { code: 'explained' }, allowed: CASE_ACTORS },
  { method: 'POST', path: '/api/auth/logout', allowed: STAFF },
];

const EMAILS: Record<'agent' | 'otherAgent' | 'owner' | 'manager' | 'admin', string> = {
  owner: 'agent1@kefu.demo',
  agent: 'agent2@kefu.demo',
  otherAgent: 'agent3@kefu.demo',
  manager: 'manager@kefu.demo',
  admin: 'admin@kefu.demo',
};

describe.each(backends())('authorization matrix on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  const clock = new FakeClock(new Date('2026-11-23T09:00:00Z'));
  const tokens: Partial<Record<Principal, string>> = {};
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    service = await testService(backend, { clock, env: { WEBCHAT_IDENTITY_SECRET: IDENTITY_SECRET, SESSION_TTL_HOURS: '8' } });
    tokens.expired = (await loginAs(service, 'agent2@kefu.demo')).token;
    clock.advance(8 * 3600_000 + 1000);
    for (const p of STAFF) {
      const session = await loginAs(service, EMAILS[p as keyof typeof EMAILS]);
      tokens[p] = session.token;
      ids[p] = session.agent.id;
    }
    const asked = await consumerAsksForPerson(service, DEMO_SENIOR_CUSTOMER_ID, { now: clock.now() });
    tokens.webchat = asked.token;
    ids.case = asked.conversationId;
    expect((await call(service, 'POST', `/api/console/conversations/${ids.case}/claim`, { token: tokens.owner! })).status).toBe(200);
  });
  afterAll(async () => {
    await service?.close();
  });

  const fill = (text: string) => text.replace(':case', ids.case!).replace(':owner', ids.owner!).replace(':agent', ids.agent!);

  async function ask(route: Route, principal: Principal): Promise<number> {
    let token = tokens[principal];
    // Logging out ends the session: each principal logs out a session of its own.
    if (route.path === '/api/auth/logout' && STAFF.includes(principal)) token = (await loginAs(service, EMAILS[principal as keyof typeof EMAILS])).token;
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    if (route.stream) {
      const controller = new AbortController();
      const res = await service.app.request(fill(route.path), { headers, signal: controller.signal });
      controller.abort();
      await res.body?.cancel().catch(() => {});
      return res.status;
    }
    const body = route.body ? Object.fromEntries(Object.entries(route.body).map(([k, v]) => [k, fill(v)])) : undefined;
    return (await call(service, route.method, fill(route.path), { ...(token ? { token } : {}), ...(body ? { body } : {}) })).status;
  }

  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('%s', async (_name, route) => {
    const order = [...PRINCIPALS].sort((a, b) => Number(route.allowed.includes(a)) - Number(route.allowed.includes(b)));
    const answers: Record<string, number> = {};
    for (const principal of order) answers[principal] = await ask(route, principal);
    const expected = Object.fromEntries(
      PRINCIPALS.map((p) => {
        if (route.allowed.includes(p)) return [p, 'allowed'];
        if (NOT_CONSOLE.includes(p) || (route.path.startsWith('/api/webchat') && p !== 'webchat')) return [p, route.page ? 302 : 401];
        return [p, 403];
      }),
    );
    const seen = Object.fromEntries(PRINCIPALS.map((p) => [p, expected[p] === 'allowed' && ![401, 403, 302].includes(answers[p]!) && answers[p]! < 500 ? 'allowed' : answers[p]]));
    expect(seen).toEqual(expected);
  });
});
