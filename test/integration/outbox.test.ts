import { asc, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelAdapter, SendResult } from '../../src/core/channel.js';
import type { OutboundMessage } from '../../src/core/message.js';
import { FakeClock } from '../../src/core/ports.js';
import { channelIdentities, conversations, messages, outbox } from '../../src/db/schema.js';
import { OutboxWorker } from '../../src/inbox/outbox-worker.js';
import { writeReplies } from '../../src/inbox/write-replies.js';
import { silentLogger } from '../../src/logger.js';
import { backends } from '../support/db.js';
import { testService } from '../support/service.js';

const ok = (): SendResult => ({ ok: true, externalId: null });
const unreachableNetwork = (): SendResult => ({ ok: false, retryable: true, error: 'connect ECONNREFUSED' });

/** A channel whose answers the test scripts; records every send attempt in order. */
class FakeChannel implements ChannelAdapter {
  readonly kind = 'webchat' as const;
  readonly capabilities = { buttons: true, maxTextLength: 8000, formatting: 'plain' as const };
  readonly attempts: OutboundMessage[] = [];
  readonly delivered: OutboundMessage[] = [];
  /** Answers for the next sends, in order; when empty, `otherwise` answers. */
  script: (() => SendResult)[] = [];
  otherwise: () => SendResult = ok;
  jitterMs = 0;

  async send(message: OutboundMessage): Promise<SendResult> {
    this.attempts.push(message);
    if (this.jitterMs > 0) await new Promise((r) => setTimeout(r, Math.random() * this.jitterMs));
    const result = (this.script.shift() ?? this.otherwise)();
    if (result.ok) this.delivered.push(message);
    return result;
  }
}

describe.each(backends())('outbox delivery on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>> | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  async function setup(env: Record<string, string> = {}) {
    const clock = new FakeClock(new Date('2026-11-22T10:00:00Z'));
    const channel = new FakeChannel();
    service = await testService(backend, { clock, adapters: { webchat: channel }, env, seed: false });
    return { clock, channel, service, db: service.database.db };
  }

  /** A visitor's first message; the bot's answer lands in the outbox (the worker is not started). */
  async function conversationWithReply(svc: NonNullable<typeof service>, visitor: string) {
    const received = await svc.receive({
      channel: 'webchat',
      externalMessageId: `visitor:${visitor}/m1`,
      sender: { externalId: `visitor:${visitor}` },
      text: '你好',
    });
    await svc.processor.idle();
    const [conversation] = await svc.database.db.select().from(conversations).where(eq(conversations.id, received.conversationId));
    if (!conversation) throw new Error('no conversation');
    const [reply] = await svc.database.db
      .select()
      .from(messages)
      .where(eq(messages.conversationId, conversation.id))
      .orderBy(asc(messages.seq))
      .offset(1);
    if (!reply) throw new Error('no reply');
    return { conversation, reply };
  }

  async function state(db: NonNullable<typeof service>['database']['db'], messageId: string) {
    const [row] = await db
      .select({ delivery: messages.deliveryStatus, error: messages.deliveryError, status: outbox.status, attempts: outbox.attempts, next: outbox.nextAttemptAt })
      .from(outbox)
      .innerJoin(messages, eq(messages.id, outbox.messageId))
      .where(eq(outbox.messageId, messageId));
    if (!row) throw new Error('no outbox row');
    return row;
  }

  it('retries a failed send with backoff and records the error until it goes through', async () => {
    const { clock, channel, service: svc, db } = await setup();
    const { reply } = await conversationWithReply(svc, 'retry');
    channel.script = [unreachableNetwork];

    expect(await svc.outbox.runOnce()).toBe(1);
    const failed = await state(db, reply.id);
    expect(failed).toMatchObject({ delivery: 'pending', error: 'connect ECONNREFUSED', status: 'pending', attempts: 1 });
    const wait = failed.next.getTime() - clock.now().getTime();
    expect(wait).toBeGreaterThanOrEqual(1600); // 2 s ± 20 %
    expect(wait).toBeLessThanOrEqual(2400);

    // Not due yet: nothing is sent early.
    clock.advance(wait - 1);
    expect(await svc.outbox.runOnce()).toBe(0);
    expect(channel.attempts).toHaveLength(1);

    clock.advance(1);
    expect(await svc.outbox.runOnce()).toBe(1);
    expect(await state(db, reply.id)).toMatchObject({ delivery: 'sent', error: null, status: 'sent', attempts: 2 });
    expect(channel.delivered.map((m) => m.messageId)).toEqual([reply.id]);
  });

  it('marks a message failed without retrying when the remote refuses it', async () => {
    const { clock, channel, service: svc, db } = await setup();
    const { reply } = await conversationWithReply(svc, 'refused');
    channel.script = [() => ({ ok: false, retryable: false, error: '400 Bad Request: message is too long' })];

    await svc.outbox.runOnce();
    clock.advance(24 * 3600_000);
    expect(await svc.outbox.runOnce()).toBe(0);
    expect(channel.attempts).toHaveLength(1);
    expect(await state(db, reply.id)).toMatchObject({
      delivery: 'failed',
      error: '400 Bad Request: message is too long',
      status: 'failed',
      attempts: 1,
    });
  });

  it('marks the identity unreachable and stops sending to it', async () => {
    const { channel, service: svc, db, clock } = await setup();
    const { conversation, reply } = await conversationWithReply(svc, 'blocked');
    channel.script = [() => ({ ok: false, retryable: false, unreachable: true, error: '403 Forbidden: bot was blocked by the user' })];
    await svc.outbox.runOnce();

    const [identity] = await db.select().from(channelIdentities).where(eq(channelIdentities.id, conversation.channelIdentityId));
    expect(identity).toMatchObject({ unreachable: true, unreachableReason: '403 Forbidden: bot was blocked by the user' });
    expect((await state(db, reply.id)).delivery).toBe('failed');

    // A later reply to the same person is not even attempted.
    const [later] = await writeReplies(db, conversation, [{ text: 'follow-up' }], clock.now());
    expect(await svc.outbox.runOnce()).toBe(1);
    expect(channel.attempts).toHaveLength(1);
    expect(await state(db, later!)).toMatchObject({ delivery: 'failed', status: 'failed' });
  });

  it('gives up after OUTBOX_MAX_ATTEMPTS', async () => {
    const { clock, channel, service: svc, db } = await setup({ OUTBOX_MAX_ATTEMPTS: '3' });
    const { reply } = await conversationWithReply(svc, 'flaky');
    channel.otherwise = unreachableNetwork;
    for (let i = 0; i < 6; i += 1) {
      await svc.outbox.runOnce();
      clock.advance(15 * 60_000);
    }
    expect(channel.attempts).toHaveLength(3);
    expect(await state(db, reply.id)).toMatchObject({ delivery: 'failed', status: 'failed', attempts: 3, error: 'connect ECONNREFUSED' });
  });

  it('keeps one conversation in order even when its first message needs a retry', async () => {
    const { clock, channel, service: svc, db } = await setup();
    const { conversation, reply } = await conversationWithReply(svc, 'ordered');
    const [second, third] = await writeReplies(db, conversation, [{ text: 'second' }, { text: 'third' }], clock.now());
    channel.script = [unreachableNetwork];

    // The first fails; the later ones wait behind it instead of overtaking.
    await svc.outbox.drain();
    expect(channel.attempts.map((m) => m.messageId)).toEqual([reply.id]);
    expect((await state(db, second!)).status).toBe('pending');

    clock.advance(60_000);
    await svc.outbox.drain();
    expect(channel.delivered.map((m) => m.messageId)).toEqual([reply.id, second, third]);
  });

  it("sends a conversation's queued replies in one pass, in order, and stops at the first that fails", async () => {
    const { clock, channel, service: svc, db } = await setup();
    const { conversation, reply } = await conversationWithReply(svc, 'batch');
    const [second, third] = await writeReplies(db, conversation, [{ text: 'second' }, { text: 'third' }], clock.now());
    expect(await svc.outbox.runOnce()).toBe(3);
    expect(channel.delivered.map((m) => m.messageId)).toEqual([reply.id, second, third]);

    // When the head fails, the rows behind it are not attempted and wait without a counted attempt.
    const [fourth, fifth] = await writeReplies(db, conversation, [{ text: 'fourth' }, { text: 'fifth' }], clock.now());
    channel.script = [unreachableNetwork];
    await svc.outbox.runOnce();
    expect(channel.attempts.map((m) => m.messageId).slice(3)).toEqual([fourth]);
    expect((await state(db, fifth!)).status).toBe('pending');
    const [behind] = await db.select().from(outbox).where(eq(outbox.messageId, fifth!));
    expect(behind?.attempts).toBe(0);
    expect(behind?.lockedUntil).toBeNull();

    clock.advance(60_000);
    await svc.outbox.drain();
    expect(channel.delivered.map((m) => m.messageId).slice(3)).toEqual([fourth, fifth]);
  });

  it('never sends a row twice when two workers share the database', async () => {
    const { clock, channel, service: svc, db } = await setup();
    // 10 conversations x 5 replies = 50 messages.
    const expected: string[][] = [];
    for (let i = 0; i < 10; i += 1) {
      const { conversation, reply } = await conversationWithReply(svc, `crowd-${i}`);
      const more = await writeReplies(db, conversation, [1, 2, 3, 4].map((n) => ({ text: `reply ${n}` })), clock.now());
      expected.push([reply.id, ...more]);
    }
    channel.jitterMs = 5;
    const worker = () =>
      new OutboxWorker({ db, clock, logger: silentLogger, adapters: { webchat: channel }, maxAttempts: 8, pollMs: 50, batchSize: 4 });
    const [a, b] = [worker(), worker()];
    const run = async (w: OutboxWorker) => {
      // Claimers race until everything went out; a pass may find nothing while others hold rows.
      // A pass that found nothing waits a moment instead of spinning on the embedded database.
      for (let i = 0; channel.attempts.length < 50 && i < 2000; i += 1) {
        if ((await w.runOnce()) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    await Promise.all([run(a), run(b), run(a), run(b)]);
    await a.drain();

    const perMessage = new Map<string, number>();
    for (const m of channel.attempts) perMessage.set(m.messageId, (perMessage.get(m.messageId) ?? 0) + 1);
    expect(channel.attempts).toHaveLength(50);
    expect(perMessage.size).toBe(50);
    expect([...perMessage.values()].every((n) => n === 1)).toBe(true);
    // And each conversation still went out in order.
    for (const ids of expected) {
      expect(channel.delivered.map((m) => m.messageId).filter((id) => ids.includes(id))).toEqual(ids);
    }
    const rows = await db.select({ status: outbox.status }).from(outbox);
    expect(rows.filter((r) => r.status === 'sent')).toHaveLength(50);
  });
});
