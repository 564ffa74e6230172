import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { eq } from 'drizzle-orm';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpListener } from '../../channels/email/smtp-listener.js';
import { signCustomerId } from '../../channels/webchat/index.js';
import { agents, customers } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { consumerAsksForPerson, IDENTITY_SECRET, loginAs } from '../support/console.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';

describe.each(backends())('smaller holes on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  let demo: Awaited<ReturnType<typeof testService>>;

  beforeAll(async () => {
    service = await testService(backend, { env: { WEBCHAT_IDENTITY_SECRET: IDENTITY_SECRET } });
    // Demo mode without an identity secret: the picker's unsigned sessions.
    demo = await testService(backend, { env: { DEMO_MODE: 'true' } });
  });
  afterAll(async () => {
    await service?.close();
    await demo?.close();
  });

  it('pages send CSP (with frame-ancestors), nosniff and Referrer-Policy; the inline script is allowed by its hash', async () => {
    const login = await service.app.request('/console/login');
    const csp = login.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(login.headers.get('x-frame-options')).toBe('DENY');
    expect(login.headers.get('x-content-type-options')).toBe('nosniff');
    expect(login.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await login.text();
    const inline = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
    expect(inline.length).toBeGreaterThan(0);
    for (const script of inline) expect(csp).toContain(`'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    expect(csp).not.toContain("'unsafe-inline' 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);

    const chat = await service.app.request('/');
    expect(chat.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
    const api = await service.app.request('/healthz');
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('the identity signature must be exactly the hex digest: trailing junk is refused', async () => {
    const signature = signCustomerId(DEMO_SENIOR_CUSTOMER_ID, IDENTITY_SECRET);
    const junk = await call(service, 'POST', '/api/webchat/sessions', { body: { customerId: DEMO_SENIOR_CUSTOMER_ID, signature: `${signature}zz` } });
    expect(junk.status).toBe(401);
    const ok = await call(service, 'POST', '/api/webchat/sessions', { body: { customerId: DEMO_SENIOR_CUSTOMER_ID, signature } });
    expect(ok.status).toBe(201);
  });

  it('?token= is accepted on the event stream only, not on POST /api/webchat/messages', async () => {
    const session = await call(service, 'POST', '/api/webchat/sessions', { body: { locale: 'zh-Hans' } });
    const token: string = session.body.token;
    const post = await call(service, 'POST', `/api/webchat/messages?token=${token}`, { body: { clientMessageId: 'q-1', text: 'hi' } });
    expect(post.status).toBe(401);
    const history = await call(service, 'GET', `/api/webchat/messages?token=${token}`);
    expect(history.status).toBe(401);
    const controller = new AbortController();
    const stream = await service.app.request(`/api/webchat/events?token=${token}`, { signal: controller.signal });
    expect(stream.status).toBe(200);
    controller.abort();
    await stream.body?.cancel().catch(() => {});
  });

  it('a case cannot be transferred or reassigned to an admin', async () => {
    const { conversationId } = await consumerAsksForPerson(service, DEMO_SENIOR_CUSTOMER_ID, { now: new Date() });
    const agent = await loginAs(service, 'agent1@kefu.demo');
    const manager = await loginAs(service, 'manager@kefu.demo');
    expect((await call(service, 'POST', `/api/console/conversations/${conversationId}/claim`, { token: agent.token })).status).toBe(200);
    const [admin] = await service.database.db.select().from(agents).where(eq(agents.role, 'admin')).limit(1);
    const transfer = await call(service, 'POST', `/api/console/conversations/${conversationId}/transfer`, { token: agent.token, body: { toAgentId: admin!.id } });
    expect(transfer.status).toBe(403);
    const reassign = await call(service, 'POST', `/api/console/conversations/${conversationId}/reassign`, { token: manager.token, body: { toAgentId: admin!.id } });
    expect(reassign.status).toBe(403);
  });

  it('demo mode opens only the seeded demo customers unsigned (no guest), and the page says it is a demo', async () => {
    const guestSession = await call(demo, 'POST', '/api/webchat/sessions', { body: { locale: 'zh-Hans' } });
    expect(guestSession.status).toBe(201);
    const [guest] = await demo.database.db.select({ id: customers.id }).from(customers).where(eq(customers.guest, true)).limit(1);
    expect(guest).toBeDefined();
    const asGuest = await call(demo, 'POST', '/api/webchat/sessions', { body: { customerId: guest!.id } });
    expect(asGuest.status).toBe(403);
    const asDemo = await call(demo, 'POST', '/api/webchat/sessions', { body: { customerId: DEMO_SENIOR_CUSTOMER_ID } });
    expect(asDemo.status).toBe(201);
    const page = await (await demo.app.request('/')).text();
    expect(page).toContain('Demo mode');
    expect(page).toContain('演示模式');
  });
});

describe('SMTP listener limits', () => {
  let listener: SmtpListener;
  const stored: Buffer[] = [];
  beforeAll(async () => {
    listener = new SmtpListener({
      port: 0,
      host: '127.0.0.1',
      maxBytes: 100_000,
      maxRecipients: 5,
      maxClients: 3,
      dataTimeoutMs: 500,
      onMessage: async (raw) => void stored.push(raw),
    });
    await listener.start();
  });
  afterAll(async () => {
    await listener?.stop();
  });

  it('refuses recipients beyond the limit with 452', async () => {
    const transport = createTransport({ host: '127.0.0.1', port: listener.port ?? 0, secure: false, ignoreTLS: true });
    const to = Array.from({ length: 8 }, (_, i) => `r${i}@kefu.example`);
    const info = await transport.sendMail({ envelope: { from: 'a@example.com', to }, raw: 'Subject: hi\r\n\r\nhello' });
    transport.close();
    expect(info.accepted).toHaveLength(5);
    expect(info.rejected).toHaveLength(3);
  });

  it('refuses connections beyond the limit with 421', async () => {
    const open = Array.from({ length: 3 }, () => connect(listener.port ?? 0, '127.0.0.1'));
    await Promise.all(open.map((s) => new Promise((r) => s.once('data', r))));
    const extra = connect(listener.port ?? 0, '127.0.0.1');
    const greeting = await new Promise<string>((r) => extra.once('data', (d) => r(String(d))));
    expect(greeting).toMatch(/^421/);
    for (const s of [...open, extra]) s.destroy();
  });

  it('drops a DATA transfer that trickles on past the time limit with 421', async () => {
    await new Promise((r) => setTimeout(r, 200));
    const socket = connect(listener.port ?? 0, '127.0.0.1');
    const replies: string[] = [];
    socket.on('data', (d) => replies.push(String(d)));
    const send = (line: string) => socket.write(`${line}\r\n`);
    const waitFor = async (re: RegExp) => {
      for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
        if (re.test(replies.join(''))) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no ${re} in ${replies.join('')}`);
    };
    await waitFor(/^220/m);
    send('HELO trickle');
    await waitFor(/^250/m);
    send('MAIL FROM:<a@example.com>');
    send('RCPT TO:<b@kefu.example>');
    send('DATA');
    await waitFor(/^354/m);
    const timer = setInterval(() => socket.write('x'), 100);
    try {
      await waitFor(/^421/m);
    } finally {
      clearInterval(timer);
      socket.destroy();
    }
    expect(stored).toHaveLength(1);
  });
});
