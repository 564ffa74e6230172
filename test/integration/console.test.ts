import { and, desc, eq, notInArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDueTimers } from '../../src/console/sla.js';
import { loadHandoffMessages } from '../../src/console/wording.js';
import { FakeClock } from '../../src/core/ports.js';
import { auditLog, conversations, coupons, customers, notifications, orders, refunds } from '../../src/db/schema.js';
import { DEMO_EN_CUSTOMER_ID, DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { consumerAsksForPerson, IDENTITY_SECRET, loginAs } from '../support/console.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe.each(backends())('agent console: ownership, replies, SLA on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  const clock = new FakeClock(new Date('2026-11-23T09:00:00Z'));
  type Login = Awaited<ReturnType<typeof loginAs>>;
  let agent1: Login;
  let agent2: Login;
  let agent3: Login;
  let manager: Login;
  const wording = loadHandoffMessages();
  // Time only moves forward: the outbox delivers on the same clock.
  const timersAt = (at: Date) => {
    clock.set(at);
    return runDueTimers({ db: service.database.db, wording }, at);
  };

  beforeAll(async () => {
    service = await testService(backend, { clock, env: { WEBCHAT_IDENTITY_SECRET: IDENTITY_SECRET, FOLLOWUP_DAYS: '3', SESSION_TTL_HOURS: '1000' } });
    [agent1, agent2, agent3, manager] = await Promise.all([
      loginAs(service, 'agent1@kefu.demo'),
      loginAs(service, 'agent2@kefu.demo'),
      loginAs(service, 'agent3@kefu.demo'),
      loginAs(service, 'manager@kefu.demo'),
    ]);
  });
  afterAll(async () => {
    await service?.close();
  });

  const post = (token: string, id: string, action: string, body: unknown = {}) =>
    call(service, 'POST', `/api/console/conversations/${id}/${action}`, { token, body });
  const caseRow = async (id: string) => (await service.database.db.select().from(conversations).where(eq(conversations.id, id)))[0]!;

  it('two agents claiming the same case at once: exactly one owns it', async () => {
    const { conversationId } = await consumerAsksForPerson(service, DEMO_SENIOR_CUSTOMER_ID, { now: clock.now() });
    const waiting = await call(service, 'GET', '/api/console/queue?view=waiting', { token: agent1.token });
    expect(waiting.body.cases.map((c: { id: string }) => c.id)).toContain(conversationId);
    const [a, b] = await Promise.all([post(agent1.token, conversationId, 'claim'), post(agent2.token, conversationId, 'claim')]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const winner = a.status === 200 ? agent1 : agent2;
    const row = await caseRow(conversationId);
    expect(row.status).toBe('assigned');
    expect(row.ownerAgentId).toBe(winner.agent.id);
    const claims = await service.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.subjectId, conversationId), eq(auditLog.action, 'case.claim')));
    expect(claims).toHaveLength(1);
    const mine = await call(service, 'GET', '/api/console/queue?view=mine', { token: winner.token });
    expect(mine.body.cases.map((c: { id: string }) => c.id)).toContain(conversationId);
  });

  it('only the owner or a manager may reply; the reply reaches the consumer in the web chat', async () => {
    const { token, conversationId } = await consumerAsksForPerson(service, DEMO_EN_CUSTOMER_ID, { now: clock.now(), text: 'I want a person' });
    expect((await post(agent1.token, conversationId, 'claim')).status).toBe(200);
    const stranger = await post(agent2.token, conversationId, 'reply', { text: 'Not my case' });
    expect(stranger.status).toBe(403);
    expect(stranger.body.error.code).toBe('forbidden');
    const owner = await post(agent1.token, conversationId, 'reply', { text: 'Hello Emily, this is Li Ming. I am looking at your order.' });
    expect(owner.status).toBe(201);
    const boss = await post(manager.token, conversationId, 'reply', { text: 'Manager here, we will sort it out today.' });
    expect(boss.status).toBe(201);
    const note = await post(agent2.token, conversationId, 'note', { text: 'Customer called yesterday too' });
    expect(note.status).toBe(201);
    await service.settle();
    const history = await call(service, 'GET', '/api/webchat/messages', { token });
    const agentTexts = history.body.messages.filter((m: { author: string }) => m.author === 'agent').map((m: { text: string }) => m.text);
    expect(agentTexts).toEqual(['Hello Emily, this is Li Ming. I am looking at your order.', 'Manager here, we will sort it out today.']);
    // The internal note never reaches the consumer.
    expect(JSON.stringify(history.body)).not.toContain('called yesterday');
    expect((await caseRow(conversationId)).firstHumanReplyAt?.toISOString()).toBe(clock.now().toISOString());
    const detail = await call(service, 'GET', `/api/console/conversations/${conversationId}`, { token: agent2.token });
    expect(detail.body.transcript.some((m: { direction: string; text: string }) => m.direction === 'internal' && m.text.includes('yesterday'))).toBe(true);
  });

  it('a transfer needs the receiver to accept; until then the owner stays responsible', async () => {
    const { conversationId } = await consumerAsksForPerson(service, DEMO_SENIOR_CUSTOMER_ID, { now: clock.now() });
    expect((await post(agent1.token, conversationId, 'claim')).status).toBe(200);
    expect((await post(agent1.token, conversationId, 'transfer', { toAgentId: agent2.agent.id, note: 'She prefers a Shanghainese speaker' })).status).toBe(200);
    let row = await caseRow(conversationId);
    expect(row.ownerAgentId).toBe(agent1.agent.id);
    expect(row.transferToAgentId).toBe(agent2.agent.id);
    expect((await post(agent2.token, conversationId, 'reply', { text: 'too early' })).status).toBe(403);
    expect((await post(agent3.token, conversationId, 'accept')).status).toBe(403);
    const offered = await call(service, 'GET', '/api/console/notifications', { token: agent2.token });
    expect(offered.body.notifications.some((n: { kind: string; conversationId: string }) => n.kind === 'case.transfer_offered' && n.conversationId === conversationId)).toBe(true);
    expect((await post(agent2.token, conversationId, 'accept')).status).toBe(200);
    row = await caseRow(conversationId);
    expect(row.ownerAgentId).toBe(agent2.agent.id);
    expect(row.transferToAgentId).toBeNull();
    expect((await post(agent1.token, conversationId, 'reply', { text: 'no longer mine' })).status).toBe(403);
    expect((await post(agent2.token, conversationId, 'reply', { text: '王阿姨您好，我来帮您。' })).status).toBe(201);
    // A manager reassigns without asking.
    expect((await post(agent2.token, conversationId, 'reassign', { toAgentId: agent3.agent.id })).status).toBe(403);
    expect((await post(manager.token, conversationId, 'reassign', { toAgentId: agent3.agent.id })).status).toBe(200);
    expect((await caseRow(conversationId)).ownerAgentId).toBe(agent3.agent.id);
    const actions = (await service.database.db.select().from(auditLog).where(eq(auditLog.subjectId, conversationId))).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['handoff.open', 'case.claim', 'case.transfer_offer', 'case.transfer_accept', 'case.reassign']));
  });

  it('no reply within 1 h: warned at 80 %, then escalated to the manager queue with a notification; the owner stays', async () => {
    const start = clock.now();
    const { conversationId } = await consumerAsksForPerson(service, DEMO_SENIOR_CUSTOMER_ID, { now: start });
    expect((await post(agent3.token, conversationId, 'claim')).status).toBe(200);
    // The demo customer's web chat keeps one open conversation, so earlier tests' notices are filtered out.
    const notes = async () =>
      (await service.database.db.select().from(notifications).where(eq(notifications.conversationId, conversationId))).filter(
        (n) => n.kind.startsWith('sla.') && n.createdAt >= start,
      );
    await timersAt(new Date(start.getTime() + 47 * MIN));
    expect(await notes()).toHaveLength(0);
    await timersAt(new Date(start.getTime() + 48 * MIN));
    const warned = await notes();
    expect(warned.map((n) => [n.kind, n.audience, n.agentId])).toEqual([['sla.warning', 'agent', agent3.agent.id]]);
    expect((await caseRow(conversationId)).escalated).toBe(false);
    await timersAt(new Date(start.getTime() + 61 * MIN));
    const row = await caseRow(conversationId);
    expect(row.escalated).toBe(true);
    expect(row.ownerAgentId).toBe(agent3.agent.id);
    const breach = (await notes()).filter((n) => n.kind === 'sla.breach');
    expect(breach.map((n) => n.audience).sort()).toEqual(['agent', 'managers']);
    const escalated = await call(service, 'GET', '/api/console/queue?view=escalated', { token: manager.token });
    expect(escalated.body.cases.map((c: { id: string }) => c.id)).toContain(conversationId);
    const managerNotes = await call(service, 'GET', '/api/console/notifications', { token: manager.token });
    expect(managerNotes.body.notifications.some((n: { kind: string; conversationId: string }) => n.kind === 'sla.breach' && n.conversationId === conversationId)).toBe(true);
    const audits = await service.database.db.select().from(auditLog).where(and(eq(auditLog.subjectId, conversationId), eq(auditLog.action, 'sla.breach')));
    expect(audits).toHaveLength(1);
    // Running again fires nothing twice.
    const again = await timersAt(new Date(start.getTime() + 62 * MIN));
    expect(again.conversationIds).not.toContain(conversationId);
  });

  it('timers fire once even when two instances evaluate them at the same moment', async () => {
    const start = clock.now();
    // A customer of its own, so the notices below belong to this test only.
    const [someone] = await service.database.db
      .select({ id: customers.id })
      .from(customers)
      .where(and(eq(customers.guest, false), notInArray(customers.id, [DEMO_SENIOR_CUSTOMER_ID, DEMO_EN_CUSTOMER_ID])))
      .orderBy(desc(customers.phone))
      .limit(1);
    const { conversationId } = await consumerAsksForPerson(service, someone!.id, { now: start, text: 'A person please' });
    const at = new Date(start.getTime() + 2 * HOUR);
    clock.set(at);
    const runs = await Promise.all([runDueTimers({ db: service.database.db, wording }, at), runDueTimers({ db: service.database.db, wording }, at)]);
    // Between them, the two runs fired this case's warning and breach exactly once each.
    const fired = runs.map((r) => (r.byKind['sla.first_response.warn'] ?? 0) + (r.byKind['sla.first_response.breach'] ?? 0));
    expect(fired[0]! + fired[1]!).toBeGreaterThanOrEqual(2);
    const breaches = await service.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.subjectId, conversationId), eq(auditLog.action, 'sla.breach')));
    expect(breaches.filter((b) => b.createdAt >= start)).toHaveLength(1);
    const warnings = (await service.database.db.select().from(notifications).where(eq(notifications.conversationId, conversationId))).filter(
      (n) => n.kind === 'sla.warning' && n.createdAt >= start,
    );
    expect(warnings).toHaveLength(1);
    expect((await post(agent1.token, conversationId, 'claim')).status).toBe(200);
  });

  it('answered and resolved in time: no escalation; the consumer gets the satisfaction question and the answer is recorded', async () => {
    const start = clock.now();
    const { token, conversationId } = await consumerAsksForPerson(service, DEMO_EN_CUSTOMER_ID, { now: start, text: 'Please, a person' });
    expect((await post(agent1.token, conversationId, 'claim')).status).toBe(200);
    clock.set(new Date(start.getTime() + 10 * MIN));
    expect((await post(agent1.token, conversationId, 'reply', { text: 'Your refund is on its way.' })).status).toBe(201);
    clock.set(new Date(start.getTime() + 30 * MIN));
    expect((await post(agent1.token, conversationId, 'resolve', { code: 'made_up' })).status).toBe(422);
    expect((await post(agent1.token, conversationId, 'resolve', { code: 'refunded' })).status).toBe(200);
    await timersAt(new Date(start.getTime() + 25 * HOUR));
    const row = await caseRow(conversationId);
    expect(row.escalated).toBe(false);
    expect(row.status).toBe('resolved');
    const slaNotes = await service.database.db.select().from(notifications).where(eq(notifications.conversationId, conversationId));
    expect(slaNotes.filter((n) => n.kind.startsWith('sla.') && n.createdAt >= start)).toEqual([]);
    await service.settle();
    const history = await call(service, 'GET', '/api/webchat/messages', { token });
    const question = history.body.messages.at(-1);
    expect(question.text).toBe(wording.satisfaction.question.en);
    expect(question.quickReplies.map((q: { id: string }) => q.id)).toEqual(['csat_1', 'csat_2', 'csat_3', 'csat_4', 'csat_5']);
    const pressed = await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: 'csat', choice: 'csat_4' } });
    expect(pressed.status).toBe(202);
    await service.settle();
    const after = await caseRow(conversationId);
    expect(after.satisfaction).toBe(4);
    expect(after.status).toBe('closed');
    const thanks = await call(service, 'GET', `/api/webchat/messages?after=${history.body.cursor}`, { token });
    expect(thanks.body.messages.map((m: { text: string }) => m.text)).toContain(wording.satisfaction.thanks.en);
  });

  it('a resolved complaint gets a follow-up message FOLLOWUP_DAYS later', async () => {
    const start = clock.now();
    const { token, conversationId } = await consumerAsksForPerson(service, DEMO_EN_CUSTOMER_ID, { now: start, text: 'The restaurant refused my coupon, I want to complain to a person', reason: 'complaint', priority: 2 });
    expect((await post(manager.token, conversationId, 'claim')).status).toBe(200);
    expect((await post(manager.token, conversationId, 'resolve', { code: 'merchant_contacted', note: 'Called the shop' })).status).toBe(200);
    const early = await timersAt(new Date(start.getTime() + 71 * HOUR));
    expect(early.byKind['case.followup'] ?? 0).toBe(0);
    const due = await timersAt(new Date(start.getTime() + 72 * HOUR));
    expect(due.byKind['case.followup']).toBe(1);
    await service.settle();
    const history = await call(service, 'GET', '/api/webchat/messages', { token });
    const last = history.body.messages.at(-1);
    expect(last.author).toBe('system');
    expect(last.text).toMatch(/^Hello, a few days ago you reported a problem \(ticket T\d{8}-\d{4}\)/);
  });

  it('queue is ordered by priority, then deadline; the case view carries the order-context packet and summary', async () => {
    const t0 = clock.now();
    const low = await consumerAsksForPerson(service, DEMO_EN_CUSTOMER_ID, { now: t0 });
    clock.advance(5 * MIN);
    const urgent = await consumerAsksForPerson(service, DEMO_SENIOR_CUSTOMER_ID, { now: clock.now(), reason: 'anger', priority: 3 });
    const queue = await call(service, 'GET', '/api/console/queue?view=waiting', { token: agent1.token });
    const ids: string[] = queue.body.cases.map((c: { id: string }) => c.id);
    expect(ids.indexOf(urgent.conversationId)).toBeLessThan(ids.indexOf(low.conversationId));
    const detail = await call(service, 'GET', `/api/console/conversations/${urgent.conversationId}`, { token: agent1.token });
    expect(detail.status).toBe(200);
    const packet = detail.body.packet;
    expect(packet.customer.name).toBe('王秀兰');
    expect(packet.customer.firstTimeUser).toBe(true);
    expect(packet.customer.channels.map((c: { channel: string }) => c.channel)).toContain('webchat');
    const [dbOrder] = await service.database.db.select().from(orders).where(eq(orders.customerId, DEMO_SENIOR_CUSTOMER_ID)).limit(1);
    const order = packet.orders.find((o: { orderNumber: string }) => o.orderNumber === dbOrder!.orderNumber);
    expect(order.coupons.length).toBeGreaterThan(0);
    expect(order.deal.included.length).toBeGreaterThan(0);
    expect(['active', 'warned', 'suspended']).toContain(order.merchant.status);
    // Emily's earlier (closed) conversation shows up in her packet.
    const emily = await call(service, 'GET', `/api/console/conversations/${low.conversationId}`, { token: agent1.token });
    expect(emily.body.packet.earlierConversations.some((e: { satisfaction: number | null }) => e.satisfaction === 4)).toBe(true);
    expect(packet.transcript.some((m: { author: string }) => m.author === 'customer')).toBe(true);
    const lines = detail.body.handoff.summary.split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(lines[0]).toContain('王秀兰');
    const ticket = detail.body.handoff.ticketNumber;
    for (const q of [ticket, dbOrder!.orderNumber, '王秀']) {
      const found = await call(service, 'GET', `/api/console/search?q=${encodeURIComponent(q)}`, { token: agent2.token });
      expect(found.body.cases.map((c: { id: string }) => c.id), q).toContain(urgent.conversationId);
    }
  });

  it('a refund under review is approved or denied once, by the owner or a manager', async () => {
    const { conversationId } = await consumerAsksForPerson(service, DEMO_SENIOR_CUSTOMER_ID, { now: clock.now(), reason: 'refund_review' });
    const db = service.database.db;
    const [coupon] = await db
      .select({ id: coupons.id, orderId: coupons.orderId })
      .from(coupons)
      .innerJoin(orders, eq(orders.id, coupons.orderId))
      .where(and(eq(orders.customerId, DEMO_SENIOR_CUSTOMER_ID), eq(coupons.state, 'unused')))
      .limit(1);
    await db.update(coupons).set({ state: 'refund_pending' }).where(eq(coupons.id, coupon!.id));
    const [refund] = await db
      .insert(refunds)
      .values({ couponId: coupon!.id, orderId: coupon!.orderId, customerId: DEMO_SENIOR_CUSTOMER_ID, amountCents: 29900, status: 'pending_review', policy: 'review:many_refunds', conversationId })
      .returning();
    expect((await post(agent2.token, conversationId, 'claim')).status).toBe(200);
    const detail = await call(service, 'GET', `/api/console/conversations/${conversationId}`, { token: agent2.token });
    expect(detail.body.refundsUnderReview.map((r: { id: string }) => r.id)).toEqual([refund!.id]);
    const decide = (token: string, decision: string) => call(service, 'POST', `/api/console/refunds/${refund!.id}/decision`, { token, body: { decision } });
    expect((await decide(agent1.token, 'approve')).status).toBe(403);
    expect((await decide(agent2.token, 'approve')).status).toBe(200);
    expect((await decide(manager.token, 'deny')).status).toBe(409);
    const [after] = await db.select().from(refunds).where(eq(refunds.id, refund!.id));
    expect(after!.status).toBe('approved');
    expect(after!.decidedByAgentId).toBe(agent2.agent.id);
    expect(after!.expectedBy).not.toBeNull();
    // Paid through the same refund gateway as the bot's refunds: the coupon is refunded.
    const [paid] = await db.select({ state: coupons.state }).from(coupons).where(eq(coupons.id, coupon!.id));
    expect(paid!.state).toBe('refunded');
  });

  it('the dashboard metrics count SLA compliance, response times and open cases over the period', async () => {
    // A quiet day of its own, with two customers nobody else in this file uses.
    const day = new Date('2026-12-10T08:00:00Z');
    clock.set(day);
    const others = await service.database.db
      .select({ id: customers.id })
      .from(customers)
      .where(and(eq(customers.guest, false), notInArray(customers.id, [DEMO_SENIOR_CUSTOMER_ID, DEMO_EN_CUSTOMER_ID])))
      .orderBy(customers.phone)
      .limit(2);
    const fast = await consumerAsksForPerson(service, others[0]!.id, { now: clock.now() });
    const slow = await consumerAsksForPerson(service, others[1]!.id, { now: clock.now() });
    expect((await post(agent1.token, fast.conversationId, 'claim')).status).toBe(200);
    clock.advance(20 * MIN);
    expect((await post(agent1.token, fast.conversationId, 'reply', { text: 'On it.' })).status).toBe(201);
    await timersAt(new Date(day.getTime() + 2 * HOUR));
    const from = new Date('2026-12-10T00:00:00Z').toISOString();
    const to = new Date('2026-12-11T00:00:00Z').toISOString();
    const res = await call(service, 'GET', `/api/console/metrics?from=${from}&to=${to}`, { token: manager.token });
    expect(res.status).toBe(200);
    const m = res.body;
    expect(m.handoffs).toBe(2);
    expect(m.sla).toMatchObject({ firstMet: 1, firstBreached: 1, firstResponse: 0.5 });
    expect(m.firstResponseMinutes.median).toBeCloseTo(20, 5);
    expect(m.satisfaction).toEqual({ average: null, answers: 0 });
    const open = Object.fromEntries(m.openByAge.map((b: { bucket: string; count: number }) => [b.bucket, b.count]));
    expect(open['1–4 h']).toBeGreaterThanOrEqual(2);
    expect(m.merchants.length).toBeGreaterThan(0);
    expect(m.merchants.every((x: { overThreshold: boolean; rate: number | null }) => x.overThreshold === (x.rate !== null && x.rate > m.complaintThreshold))).toBe(true);
    expect((await call(service, 'GET', `/api/console/metrics?from=${to}&to=${from}`, { token: manager.token })).status).toBe(422);
    expect((await call(service, 'GET', '/api/console/queue?view=escalated', { token: manager.token })).body.cases.map((c: { id: string }) => c.id)).toContain(slow.conversationId);
  });
});
