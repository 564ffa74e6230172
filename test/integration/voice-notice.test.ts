import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelAdapter, SendResult } from '../../src/core/channel.js';
import type { OutboundMessage } from '../../src/core/message.js';
import { messages, outbox } from '../../src/db/schema.js';
import { backends } from '../support/db.js';
import { testService } from '../support/service.js';

/** A remote channel without buttons (quick replies become numbered options), recording what it was asked to send. */
class NumberedChannel implements ChannelAdapter {
  readonly kind = 'email' as const;
  readonly capabilities = { buttons: false, maxTextLength: 100_000, formatting: 'plain' as const };
  readonly sent: OutboundMessage[] = [];
  async send(message: OutboundMessage): Promise<SendResult> {
    this.sent.push(message);
    return { ok: true, externalId: null };
  }
}

const voiceNote = { kind: 'audio' as const, filename: 'voice.m4a', contentType: 'audio/mp4', size: 12000, ref: 'att-1', inline: false };

// The voice notice is a flow behaviour (flows/global.yaml), so it is the same on every channel.
describe.each(backends())('a voice note without text on a channel other than Telegram, on %s', (backend) => {
  const channel = new NumberedChannel();
  let service: Awaited<ReturnType<typeof testService>>;

  beforeAll(async () => {
    service = await testService(backend, { adapters: { email: channel } });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('is kept, and the bot says it cannot listen yet, then the menu; a number picks an option after it', async () => {
    const sender = { externalId: 'grandma@example.com', email: 'grandma@example.com' };
    const stored = await service.receive({ channel: 'email', externalMessageId: '<voice-1@example.com>', sender, text: '', attachments: [voiceNote], locale: 'en' });
    await service.settle();

    const [notice, ...rest] = channel.sent;
    expect(rest).toHaveLength(0);
    expect(notice?.text).toMatch(/can't listen to voice messages yet[\s\S]*Hello/);
    expect(notice?.quickReplies.map((q) => q.id)).toEqual(['account_help', 'refund', 'complaint', 'refund_status', 'order_help', 'human']);
    const transcript = await service.database.db
      .select({ direction: messages.direction, author: messages.author, attachments: messages.attachments, deliveryStatus: messages.deliveryStatus, outboxStatus: outbox.status })
      .from(messages)
      .leftJoin(outbox, eq(outbox.messageId, messages.id))
      .where(eq(messages.conversationId, stored.conversationId))
      .orderBy(asc(messages.seq));
    expect(transcript).toEqual([
      expect.objectContaining({ direction: 'in', author: 'customer', attachments: [expect.objectContaining({ kind: 'audio', ref: 'att-1' })] }),
      { direction: 'out', author: 'bot', attachments: [], deliveryStatus: 'sent', outboxStatus: 'sent' },
    ]);

    // "2" answers the menu that came with the notice: the refund flow starts, and since nothing proves
    // who this sender is, it asks them to prove it before touching any account.
    await service.receive({ channel: 'email', externalMessageId: '<voice-2@example.com>', sender, text: '2', locale: 'en' });
    await service.settle();
    expect(channel.sent).toHaveLength(2);
    expect(channel.sent.at(-1)?.text).toMatch(/To protect your account/);
  });
});
