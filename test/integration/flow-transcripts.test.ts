import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, asc, desc, eq, gt, isNull, ne } from 'drizzle-orm';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FakeClock } from '../../src/core/ports.js';
import { complaints, conversations, customers, handoffs, messages, orders, refunds, timers } from '../../src/db/schema.js';
import { DEMO_EN_CUSTOMER_ID, DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { backends } from '../support/db.js';
import { testService } from '../support/service.js';
import { pressed, Transcript } from '../../src/studio/transcript.js';

// Golden transcripts: consumer says X -> bot says Y -> state/effects Z, through the whole pipeline
// (intake, flow engine with the real actions and the rules classifier, outbox) on seeded demo data.
const DIR = join(import.meta.dirname, '../fixtures/transcripts');

// The transcript format is the studio's (it stores, edits and replays the same files before a publish).

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();
const transcripts = files.map((f) => ({ file: f, transcript: Transcript.parse(parse(readFileSync(join(DIR, f), 'utf8'))) }));

describe.each(backends())('golden transcripts on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;

  beforeAll(async () => {
    service = await testService(backend, { clock: new FakeClock(new Date('2026-11-22T09:00:00Z')) });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('covers every flow in zh-Hans and en', () => {
    const names = files.join(' ');
    for (const flow of ['main', 'account', 'refund', 'complaint', 'orders']) {
      expect(names).toMatch(new RegExp(`${flow}[^ ]*\\.zh-Hans\\.yaml`));
      expect(names).toMatch(new RegExp(`${flow}[^ ]*\\.en\\.yaml`));
    }
  });

  it.each(transcripts)('$file', async ({ file, transcript }) => {
    await play(service, file, transcript);
  });
});

async function play(service: Awaited<ReturnType<typeof testService>>, file: string, transcript: Transcript): Promise<void> {
  const db = service.database.db;
  const customerId = transcript.customer === 'senior' ? DEMO_SENIOR_CUSTOMER_ID : DEMO_EN_CUSTOMER_ID;
  const [customer] = await db.select().from(customers).where(eq(customers.id, customerId));
  const [foreign] = await db.select({ orderNumber: orders.orderNumber }).from(orders).where(ne(orders.customerId, customerId)).orderBy(asc(orders.orderNumber)).limit(1);
  const [own] = await db.select({ orderNumber: orders.orderNumber }).from(orders).where(eq(orders.customerId, customerId)).orderBy(desc(orders.createdAt), asc(orders.orderNumber)).limit(1);
  // Each transcript is its own visitor, so transcripts do not share a conversation.
  const externalId = `transcript:${file}`;
  let conversationId: string | null = null;
  let lastSeq = 0;
  let lastReplies: { id: string; label: string }[] = [];
  for (const [i, turn] of transcript.turns.entries()) {
    const where = `${file} turn ${i + 1}`;
    let text = (turn.send ?? '').replace('{{foreignOrder}}', foreign?.orderNumber ?? '').replace('{{ownOrder}}', own?.orderNumber ?? '');
    let choice: string | null = null;
    if (turn.press !== undefined) {
      const q = pressed(lastReplies, turn.press);
      expect(q, `${where}: no quick reply ${turn.press} in ${JSON.stringify(lastReplies)}`).toBeDefined();
      choice = q?.id ?? null;
      text = q?.label ?? '';
    }
    const result = await service.receive({
      channel: 'webchat',
      externalMessageId: `${externalId}/${i}`,
      sender: { externalId, customerId, displayName: customer?.name ?? null },
      text,
      choice,
      // As a web chat session signed by the host app: the customer is proven.
      identity: { level: 'proven', basis: 'signed_session' },
    });
    conversationId = result.conversationId;
    await service.settle();
    const out = await db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, conversationId), eq(messages.direction, 'out'), gt(messages.seq, lastSeq)))
      .orderBy(asc(messages.seq));
    const all = await db.select({ seq: messages.seq }).from(messages).where(eq(messages.conversationId, conversationId)).orderBy(desc(messages.seq)).limit(1);
    lastSeq = all[0]?.seq ?? lastSeq;
    const texts = out.map((m) => m.text);
    expect(texts, `${where}: bot messages`).toHaveLength(turn.bot.length);
    turn.bot.forEach((expected, j) => expect(texts[j], `${where}: bot message ${j + 1}`).toContain(expected));
    // Dates are worded for the reader (12月7日（周一）, Mon, Dec 7), never shown as 2026-12-07.
    for (const m of out) {
      for (const shown of [m.text, ...(m.quickReplies ?? []).map((q) => q.label)]) expect(shown, `${where}: an ISO date shown`).not.toMatch(/\b\d{4}-\d{2}-\d{2}\b/);
    }
    const last = out.at(-1);
    if (last?.quickReplies) lastReplies = last.quickReplies;
    for (const b of turn.buttons ?? []) {
      expect(pressed(last?.quickReplies ?? [], b), `${where}: button ${b} in ${JSON.stringify(last?.quickReplies)}`).toBeDefined();
    }
    const [conversation] = await db.select().from(conversations).where(eq(conversations.id, conversationId));
    if (!conversation) throw new Error('conversation vanished');
    const state = z.object({ flowId: z.string().nullable(), step: z.string().nullable() }).parse(conversation.state);
    if (turn.state?.flowId !== undefined) expect(state.flowId, `${where}: flow`).toBe(turn.state.flowId);
    if (turn.state?.step !== undefined) expect(state.step, `${where}: step`).toBe(turn.state.step);
    if (turn.state?.status !== undefined) expect(conversation.status, `${where}: status`).toBe(turn.state.status);
    if (turn.state?.locale !== undefined) expect(conversation.locale, `${where}: locale`).toBe(turn.state.locale);
    if (turn.state?.priorityAtLeast !== undefined) expect(conversation.priority, `${where}: priority`).toBeGreaterThanOrEqual(turn.state.priorityAtLeast);
    if (turn.handoff !== undefined) {
      const [h] = await db.select().from(handoffs).where(eq(handoffs.conversationId, conversationId)).orderBy(desc(handoffs.createdAt)).limit(1);
      expect(h?.reason ?? 'none', `${where}: handoff`).toBe(turn.handoff);
    }
    if (turn.callbackPhone !== undefined) {
      const [h] = await db.select().from(handoffs).where(eq(handoffs.conversationId, conversationId)).orderBy(desc(handoffs.createdAt)).limit(1);
      expect(h?.callbackPhone, `${where}: callback phone`).toBe(turn.callbackPhone);
    }
    if (turn.refunds !== undefined) expect(await db.$count(refunds, eq(refunds.conversationId, conversationId)), `${where}: refunds`).toBe(turn.refunds);
    if (turn.complaints !== undefined) {
      expect(await db.$count(complaints, eq(complaints.conversationId, conversationId)), `${where}: complaints`).toBe(turn.complaints);
    }
    if (turn.openTimers !== undefined) {
      const armed = and(eq(timers.subjectId, conversationId), isNull(timers.firedAt), isNull(timers.cancelledAt));
      expect(await db.$count(timers, armed), `${where}: armed SLA timers`).toBe(turn.openTimers);
    }
  }
}
