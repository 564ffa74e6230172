import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/ports.js';
import { auditLog } from '../../src/db/schema.js';
import { DEMO_PASSWORD } from '../../src/db/seed.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';

describe.each(backends())('login throttling on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  const clock = new FakeClock(new Date('2026-11-23T09:00:00Z'));

  beforeAll(async () => {
    service = await testService(backend, { clock, env: { TRUST_PROXY: 'x-forwarded-for' } });
  });
  afterAll(async () => {
    await service?.close();
  });

  const login = (email: string, password: string, address: string) =>
    call(service, 'POST', '/api/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': address } });

  it('40 parallel wrong passwords for one account: only the limit (5) are checked, the rest answer 429', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => login('agent1@kefu.demo', `guess-${i}`, `10.1.0.${i}`)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(35);
    const failures = await service.database.db.select().from(auditLog).where(eq(auditLog.action, 'auth.login_failed'));
    expect(failures.filter((f) => f.subjectId === 'agent1@kefu.demo')).toHaveLength(5);
    // Even the right password waits for the window to pass.
    expect((await login('agent1@kefu.demo', DEMO_PASSWORD, '10.9.9.9')).status).toBe(429);
    clock.advance(16 * 60_000);
    expect((await login('agent1@kefu.demo', DEMO_PASSWORD, '10.9.9.9')).status).toBe(200);
  });

  it("20 failures on one account from a shared proxy address do not lock another account's correct password", async () => {
    const proxy = '10.2.0.1';
    for (let i = 0; i < 20; i += 1) expect([401, 429]).toContain((await login('agent2@kefu.demo', `wrong-${i}`, proxy)).status);
    expect((await login('agent3@kefu.demo', DEMO_PASSWORD, proxy)).status).toBe(200);
    expect((await login('manager@kefu.demo', DEMO_PASSWORD, proxy)).status).toBe(200);
  });

  it('an address that failed on many accounts is refused for every account, other addresses are not', async () => {
    const sprayer = '10.3.0.1';
    for (let i = 0; i < 10; i += 1) expect((await login(`nobody${i}@example.com`, 'password1', sprayer)).status).toBe(401);
    expect((await login('nobody10@example.com', 'password1', sprayer)).status).toBe(429);
    expect((await login('admin@kefu.demo', DEMO_PASSWORD, sprayer)).status).toBe(429);
    expect((await login('admin@kefu.demo', DEMO_PASSWORD, '10.3.0.2')).status).toBe(200);
    clock.advance(16 * 60_000);
    expect((await login('admin@kefu.demo', DEMO_PASSWORD, sprayer)).status).toBe(200);
  });

  it('with TRUST_PROXY=x-forwarded-for the last entry (what our proxy saw) counts, not what the client prepended', async () => {
    const real = '10.4.0.1';
    for (let i = 0; i < 11; i += 1) await login(`spray${i}@example.com`, 'password1', `1.1.1.${i}, ${real}`);
    expect((await login('agent1@kefu.demo', DEMO_PASSWORD, `9.9.9.9, ${real}`)).status).toBe(429);
  });
});
