import { and, asc, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { InboundMessageInput } from '../../src/core/message.js';
import { conversations, messages } from '../../src/db/schema.js';
import type { Responder } from '../../src/inbox/responder.js';
import { backends } from '../support/db.js';
import { testService } from '../support/service.js';

// Under load, messages arriving at the same moment are stored by one statement, and bot turns that
// write nothing but their replies are stored together too (group commit). These tests hold that to
// what a consumer or an agent sees: every message stored once and answered once, in its own
// conversation, and an agent's change never overwritten by a turn decided before it.

function webchat(sender: string, id: string, text: string): InboundMessageInput {
  return { channel: 'webchat', externalMessageId: `${sender}/${id}`, sender: { externalId: sender, displayName: null }, text };
}

describe.each(backends())('group commit on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>> | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  it('a dozen customers writing at once are each stored once and answered once in their own conversation, a broken character and a redelivery among them', async () => {
    service = await testService(backend);
    const senders = Array.from({ length: 12 }, (_, i) => `visitor-${i}`);
    // Each opens a conversation first, so the second messages take the shared intake statement.
    const opened = new Map<string, string>();
    for (const sender of senders) opened.set(sender, (await service.receive(webchat(sender, 'first', '你好'))).conversationId);
    await service.settle();

    // All at once, in one turn of the event loop: one of them with a broken character (a lone UTF-16
    // surrogate, which has no UTF-8 form), and a redelivery of another one's message.
    const inputs = senders.map((s, i) => webchat(s, 'second', i === 5 ? 'refund \ud800 please' : '我想退款'));
    const results = await Promise.all([...inputs, inputs[3]!].map((input) => service!.receive(input)));

    const [redelivery] = results.slice(-1);
    const firsts = results.slice(0, -1);
    expect(firsts.map((r) => r.duplicate)).toEqual(senders.map(() => false));
    expect(new Set(firsts.map((r) => r.messageId)).size).toBe(senders.length);
    expect(firsts.map((r) => r.conversationId)).toEqual(senders.map((s) => opened.get(s)));
    expect(redelivery).toMatchObject({ duplicate: true, messageId: firsts[3]!.messageId });

    await service.settle();
    const db = service.database.db;
    for (const [i, sender] of senders.entries()) {
      const rows = await db
        .select({ direction: messages.direction, text: messages.text, processedAt: messages.processedAt, externalId: messages.externalId })
        .from(messages)
        .where(eq(messages.conversationId, opened.get(sender)!))
        .orderBy(asc(messages.seq));
      const inbound = rows.filter((r) => r.direction === 'in');
      expect(inbound.map((r) => r.externalId)).toEqual([`${sender}/first`, `${sender}/second`]);
      expect(inbound.every((r) => r.processedAt !== null)).toBe(true);
      // Each message answered, in order: one customer message, then the bot's answer to it.
      expect(rows.map((r) => r.direction)).toEqual(['in', 'out', 'in', 'out']);
      if (i === 5) expect(inbound[1]?.text).toBe('refund \ufffd please');
    }
  });

  it("a bot turn decided before an agent took the case is not stored over the agent's change: the turn runs again and sees the agent", async () => {
    let takeover: (() => Promise<void>) | null = null;
    const tries: string[] = [];
    const responder: Responder = {
      async respond({ conversation }) {
        tries.push(conversation.status);
        if (conversation.status === 'assigned') return { replies: [] };
        // While the bot decides, an agent takes the case (another request, another connection).
        await takeover?.();
        takeover = null;
        return { replies: [{ text: 'The bot answers.' }], patch: { status: 'bot', state: { decidedBy: 'bot' } } };
      },
    };
    service = await testService(backend, { responder });
    const db = service.database.db;
    const stored = await service.receive(webchat('visitor-agent', 'first', 'hello'));
    await service.settle();
    const repliesBefore = await db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, stored.conversationId), eq(messages.direction, 'out')));
    expect(repliesBefore.map((r) => r.text)).toEqual(['The bot answers.']);

    takeover = async () => {
      await db.update(conversations).set({ status: 'assigned', state: { decidedBy: 'agent' } }).where(eq(conversations.id, stored.conversationId));
    };
    tries.length = 0;
    const second = await service.receive(webchat('visitor-agent', 'second', 'are you there?'));
    await service.settle();

    expect(tries).toEqual(['bot', 'assigned']);
    const [conversation] = await db.select().from(conversations).where(eq(conversations.id, stored.conversationId));
    expect(conversation).toMatchObject({ status: 'assigned', state: { decidedBy: 'agent' }, processingUntil: null });
    const replies = await db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, stored.conversationId), eq(messages.direction, 'out')));
    expect(replies.map((r) => r.text)).toEqual(['The bot answers.']);
    const [message] = await db.select().from(messages).where(eq(messages.id, second.messageId));
    expect(message?.processedAt).not.toBeNull();
  });
});
