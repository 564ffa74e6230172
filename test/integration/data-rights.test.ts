import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDueTimers } from '../../src/console/sla.js';
import { loadHandoffMessages } from '../../src/console/wording.js';
import { FakeClock } from '../../src/core/ports.js';
import { auditLog, channelIdentities, customers, messages, orders, refunds, timers } from '../../src/db/schema.js';
import { DEMO_EN_CUSTOMER_ID } from '../../src/db/seed.js';
import { eraseCustomer, exportCustomer, findCustomer } from '../../src/privacy/customer-data.js';
import { armRetention, RETENTION_TIMER_KIND } from '../../src/privacy/retention.js';
import { backends } from '../support/db.js';
import { testService } from '../support/service.js';

// Issue 10 item 13: a person's data can be exported and erased; old messages lose personal data.
describe.each(backends())('data rights on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  const clock = new FakeClock(new Date('2026-11-22T10:00:00Z'));

  beforeAll(async () => {
    service = await testService(backend, { clock });
  });
  afterAll(async () => {
    await service?.close();
  });

  const emailFromEmily = (id: string, text: string) =>
    service.receive({
      channel: 'email',
      externalMessageId: id,
      sender: { externalId: 'emily.chen@example.com', email: 'emily.chen@example.com', displayName: 'Emily Chen' },
      text,
      thread: { subject: 'My phone', messageSubject: 'My phone' },
      identity: { level: 'claimed', basis: 'from_header' },
    });

  it('exports everything about a person as JSON, then erases the personal data and keeps the money records', async () => {
    const db = service.database.db;
    await emailFromEmily('dr-1@example.com', 'Please call me on 13812345678');
    await service.settle();

    const data = await exportCustomer(db, 'emily.chen@example.com', clock.now());
    const json = JSON.stringify(data);
    expect(json).toContain('Emily Chen');
    expect(json).toContain('ZR9P-NE48-3H2Z');
    expect(json).toContain('13812345678');
    expect(json).toContain('emily.chen@example.com');
    expect((await exportCustomer(db, DEMO_EN_CUSTOMER_ID, clock.now())).customer).toMatchObject({ id: DEMO_EN_CUSTOMER_ID });

    const ordersBefore = await db.select().from(orders).where(eq(orders.customerId, DEMO_EN_CUSTOMER_ID));
    const refundsBefore = await db.select().from(refunds).where(eq(refunds.customerId, DEMO_EN_CUSTOMER_ID));
    const counts = await eraseCustomer(db, 'emily.chen@example.com', 'privacy-officer', clock.now());
    expect(counts.messages).toBeGreaterThan(0);

    const [customer] = await db.select().from(customers).where(eq(customers.id, DEMO_EN_CUSTOMER_ID));
    expect(customer).toMatchObject({ name: null, email: null, phone: null, birthYear: null });
    expect(customer?.erasedAt).not.toBeNull();
    // Orders and refunds stay, pointing at the blanked customer.
    expect(await db.select().from(orders).where(eq(orders.customerId, DEMO_EN_CUSTOMER_ID))).toHaveLength(ordersBefore.length);
    expect(await db.select().from(refunds).where(eq(refunds.customerId, DEMO_EN_CUSTOMER_ID))).toHaveLength(refundsBefore.length);
    const after = JSON.stringify(await exportCustomer(db, DEMO_EN_CUSTOMER_ID, clock.now()).catch(() => null));
    expect(after).toBe('null');
    const remaining = JSON.stringify({
      identities: await db.select().from(channelIdentities).where(eq(channelIdentities.customerId, DEMO_EN_CUSTOMER_ID)),
      messages: await db.select({ text: messages.text, original: messages.original, subject: messages.subject }).from(messages),
    });
    expect(remaining).not.toContain('13812345678');
    expect(remaining).not.toContain('emily.chen@example.com');
    expect(remaining).not.toContain('Emily Chen');
    const [audit] = await db.select().from(auditLog).where(and(eq(auditLog.action, 'customer.erased'), eq(auditLog.subjectId, DEMO_EN_CUSTOMER_ID)));
    expect(audit).toMatchObject({ actorType: 'operator', actorId: 'privacy-officer' });
    await expect(findCustomer(db, 'emily.chen@example.com')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('masks personal data in messages older than RETENTION_DAYS through a durable timer that re-arms itself', async () => {
    const db = service.database.db;
    const old = await service.receive({
      channel: 'email',
      externalMessageId: 'dr-old@example.com',
      sender: { externalId: 'old.sender@example.com', email: 'old.sender@example.com' },
      text: '我的手机 13987654321，邮箱 old.sender@example.com',
      thread: { subject: '旧事', messageSubject: '电话 13987654321' },
      receivedAt: new Date('2026-10-01T10:00:00Z'),
    });
    const fresh = await service.receive({
      channel: 'email',
      externalMessageId: 'dr-new@example.com',
      sender: { externalId: 'new.sender@example.com', email: 'new.sender@example.com' },
      text: '我的手机 13911112222',
      receivedAt: clock.now(),
    });
    await armRetention(db, clock.now());
    const run = await runDueTimers({ db, wording: loadHandoffMessages(), retentionDays: 30 }, clock.now());
    expect(run.byKind[RETENTION_TIMER_KIND]).toBe(1);
    const [oldRow] = await db.select().from(messages).where(eq(messages.id, old.messageId));
    expect(oldRow?.text).not.toContain('13987654321');
    expect(oldRow?.text).not.toContain('old.sender@example.com');
    expect(oldRow?.subject).not.toContain('13987654321');
    expect(oldRow?.maskedAt).not.toBeNull();
    const [newRow] = await db.select().from(messages).where(eq(messages.id, fresh.messageId));
    expect(newRow?.text).toContain('13911112222');
    // The next run is armed a day later, durably.
    const pending = await db.select().from(timers).where(and(eq(timers.kind, RETENTION_TIMER_KIND), isNull(timers.firedAt)));
    expect(pending).toHaveLength(1);
    expect(pending[0]?.dueAt.toISOString()).toBe('2026-11-23T10:00:00.000Z');
  });
});
