import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signCustomerId } from '../../channels/webchat/index.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/client.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { silentLogger } from '../../src/logger.js';
import { createService, type Service } from '../../src/service.js';
import { backends } from '../support/db.js';
import { withDatabase } from '../support/global-setup.js';
import { call } from '../support/service.js';
import { tcpProxy } from '../support/tcp-proxy.js';

const SECRET = 'outage-secret';

// An outage needs a server to lose: PostgreSQL only (PGlite is inside the process).
describe.runIf(backends().includes('postgres'))('database outage on postgres', () => {
  const url = process.env.TEST_DATABASE_URL ?? '';
  const name = `kefu_outage_${randomBytes(5).toString('hex')}`;
  let proxy: Awaited<ReturnType<typeof tcpProxy>>;
  let service: Service;
  let token = '';
  const figures: Record<string, number> = {};

  beforeAll(async () => {
    const admin = postgres(url, { onnotice: () => {}, max: 1 });
    await admin.unsafe(`create database ${name} template ${inject('postgresTemplate')}`);
    await admin.end();
    const target = new URL(withDatabase(url, name));
    proxy = await tcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    target.hostname = '127.0.0.1';
    target.port = String(proxy.port);
    const database = await openDatabase({ kind: 'postgres', url: target.toString() });
    const config = loadConfig({ DATABASE_URL: target.toString(), LOG_LEVEL: 'silent', WEBCHAT_IDENTITY_SECRET: SECRET, DEMO_MODE: 'true' });
    service = await createService({ config, logger: silentLogger, database, seedIfEmpty: true });
    const session = await call(service, 'POST', '/api/webchat/sessions', {
      body: { customerId: DEMO_SENIOR_CUSTOMER_ID, signature: signCustomerId(DEMO_SENIOR_CUSTOMER_ID, SECRET) },
    });
    expect(session.status).toBe(201);
    token = session.body.token;
  });
  afterAll(async () => {
    await proxy?.resume();
    await service?.stop();
    await service?.database.close();
    await proxy?.close();
    const admin = postgres(url, { onnotice: () => {}, max: 1 });
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
    if (Object.keys(figures).length > 0) process.stderr.write(`[db-outage] answer times (ms): ${JSON.stringify(figures)}\n`);
  });

  const timed = async <T>(label: string, run: () => T | Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await run();
    figures[label] = Math.round(performance.now() - started);
    return result;
  };

  for (const mode of ['stopped', 'blackhole'] as const) {
    it(`database ${mode}: POSTs answer 503 with Retry-After and /readyz 503, each within 2 s; back to normal after`, async () => {
      if (mode === 'stopped') await proxy.stop();
      else proxy.blackhole();
      try {
        const post = await timed(`${mode} POST /api/webchat/messages`, () =>
          service.app.request('/api/webchat/messages', {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({ clientMessageId: `outage-${mode}`, text: '我要退款' }),
          }),
        );
        expect(post.status).toBe(503);
        expect(Number(post.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(((await post.json()) as { error: { code: string } }).error.code).toBe('unavailable');
        expect(figures[`${mode} POST /api/webchat/messages`]).toBeLessThan(2000);

        const login = await timed(`${mode} POST /api/auth/login`, () =>
          call(service, 'POST', '/api/auth/login', { body: { email: 'agent1@kefu.demo', password: 'whatever' } }),
        );
        expect(login.status).toBe(503);
        expect(figures[`${mode} POST /api/auth/login`]).toBeLessThan(2000);

        const ready = await timed(`${mode} GET /readyz`, () => service.app.request('/readyz'));
        expect(ready.status).toBe(503);
        expect(figures[`${mode} GET /readyz`]).toBeLessThan(2000);
      } finally {
        await proxy.resume();
      }
      await expect
        .poll(async () => {
          const res = await service.app.request('/readyz');
          return `${res.status} ${await res.text()}`;
        }, { timeout: 10_000 })
        .toMatch(/^200/);
    }, 30_000);
  }
});
