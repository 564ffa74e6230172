import { and, asc, eq, gt } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../src/core/ports.js';
import { auditLog, channelIdentities, conversations, coupons, deals, messages, orders, outbox, refunds } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';
import { botApiError, fakeBotApi } from './telegram-fake-bot-api.js';

const SECRET = 'webhook-s3cret';
const ENV = { TELEGRAM_MODE: 'webhook', TELEGRAM_BOT_TOKEN: '123456:TEST-TOKEN', TELEGRAM_WEBHOOK_SECRET: SECRET };
const api = fakeBotApi();

let nextUpdateId = 500_000;
let nextMessageId = 1;

/** A private-chat update from Telegram user `userId` (chat id = user id, as Telegram does). */
function privateUpdate(userId: number, content: Record<string, unknown>, kind: 'message' | 'edited_message' = 'message', messageId?: number) {
  const from = { id: userId, is_bot: false, first_name: '秀兰', language_code: 'zh-hans' };
  return {
    update_id: (nextUpdateId += 1),
    [kind]: { message_id: messageId ?? (nextMessageId += 1), date: 1763802000, chat: { id: userId, type: 'private', first_name: '秀兰' }, from, ...content },
  };
}

function pressed(userId: number, data: string, keyboardMessage: { message_id: number; reply_markup: unknown }) {
  return {
    update_id: (nextUpdateId += 1),
    callback_query: {
      id: `cb-${nextUpdateId}`,
      from: { id: userId, is_bot: false, first_name: '秀兰', language_code: 'zh-hans' },
      message: { ...keyboardMessage, date: 1763802000, chat: { id: userId, type: 'private' } },
      chat_instance: '42',
      data,
    },
  };
}

/** The bot's side of a Telegram user's conversations, oldest first, each with its outbox row. */
async function outgoingOf(service: Awaited<ReturnType<typeof testService>>, userId: number) {
  const rows = await service.database.db
    .select({ message: messages, outboxStatus: outbox.status, attempts: outbox.attempts, lastError: outbox.lastError })
    .from(messages)
    .innerJoin(conversations, eq(conversations.id, messages.conversationId))
    .innerJoin(channelIdentities, eq(channelIdentities.id, conversations.channelIdentityId))
    .leftJoin(outbox, eq(outbox.messageId, messages.id))
    .where(and(eq(channelIdentities.channel, 'telegram'), eq(channelIdentities.externalId, String(userId)), eq(messages.direction, 'out')))
    .orderBy(asc(messages.seq));
  return rows.map((r) => ({ ...r.message, outboxStatus: r.outboxStatus, attempts: r.attempts, lastError: r.lastError }));
}

beforeAll(() => api.listen());
afterEach(() => api.reset());
afterAll(() => api.close());

describe.each(backends())('Telegram channel on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;

  beforeAll(async () => {
    service = await testService(backend, { env: ENV });
  });
  afterAll(async () => {
    await service?.close();
  });

  const post = (update: unknown, secret: string | null = SECRET) =>
    call(service, 'POST', '/api/telegram/webhook', {
      body: update,
      headers: secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret },
    });

  async function inboundRows(userId: number) {
    return service.database.db
      .select({ message: messages })
      .from(messages)
      .innerJoin(conversations, eq(conversations.id, messages.conversationId))
      .innerJoin(channelIdentities, eq(channelIdentities.id, conversations.channelIdentityId))
      .where(and(eq(channelIdentities.channel, 'telegram'), eq(channelIdentities.externalId, String(userId)), eq(messages.direction, 'in')))
      .orderBy(asc(messages.seq))
      .then((rows) => rows.map((r) => r.message));
  }

  /** The bot's side of the user's transcript, oldest first, each with its outbox row. */
  async function outgoing(userId: number) {
    return outgoingOf(service, userId);
  }

  it('refuses updates without the right secret token, with a JSON error', async () => {
    const update = privateUpdate(7100001, { text: 'hello' });
    const missing = await post(update, null);
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('unauthorized');
    const wrong = await post(update, 'webhook-s3creT');
    expect(wrong.status).toBe(401);
    const shorter = await post(update, 'x');
    expect(shorter.status).toBe(401);
    expect(await inboundRows(7100001)).toHaveLength(0);
    const right = await post(update);
    expect(right.status).toBe(200);
    expect(await inboundRows(7100001)).toHaveLength(1);
    const junk = await call(service, 'POST', '/api/telegram/webhook', {
      rawBody: '{"update_id": ',
      headers: { 'x-telegram-bot-api-secret-token': SECRET },
    });
    // Acknowledged and kept as a dead letter: a 4xx would make Telegram redeliver it forever.
    expect(junk.status).toBe(200);
    expect(junk.body.ignored).toBe('not JSON');
  });

  it('stores one message and sends one reply when the same update arrives 3 times', async () => {
    const update = privateUpdate(7100002, { text: '你好' });
    const results = await Promise.all([post(update), post(update), post(update)]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    await service.settle();
    const stored = await inboundRows(7100002);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.externalId).toBe(`update:${update.update_id}`);
    const replies = api.sentTo(7100002);
    expect(replies).toHaveLength(1);
    // The main menu arrives as an inline keyboard, one big button per row, callback_data = quick reply id.
    const keyboard = replies[0]?.body.reply_markup.inline_keyboard;
    expect(keyboard.map((row: { callback_data: string }[]) => row.map((b) => b.callback_data))).toEqual([
      ['account_help'],
      ['refund'],
      ['complaint'],
      ['refund_status'],
      ['order_help'],
      ['human'],
    ]);
    expect(replies[0]?.body.text).toMatch(/您好/);
    expect(replies[0]?.body.parse_mode).toBeUndefined();
    // Redelivered later (Telegram retries after a timeout): still nothing new.
    expect((await post(update)).status).toBe(200);
    await service.settle();
    expect(await inboundRows(7100002)).toHaveLength(1);
    expect(api.sentTo(7100002)).toHaveLength(1);
  });

  it('greets /start with the menu and a share-my-phone button; a pressed menu button becomes a choice', async () => {
    const user = 7100003;
    await post(privateUpdate(user, { text: '/start' }));
    await service.settle();
    // Both went out through the outbox (settle drains it): nothing is sent beside it.
    expect(api.sentTo(user)).toHaveLength(2);
    const sharePrompt = api.sentTo(user).find((c) => c.body.reply_markup?.keyboard);
    expect(sharePrompt?.body.reply_markup.keyboard[0][0]).toEqual({ text: '发送我的手机号', request_contact: true });
    // The prompt is part of the conversation: agents see it in the transcript, delivered like any reply.
    const transcript = await outgoing(user);
    expect(transcript).toEqual([
      expect.objectContaining({ author: 'system', text: sharePrompt?.body.text, quickReplies: [{ id: 'share_phone', label: '发送我的手机号' }], deliveryStatus: 'sent', outboxStatus: 'sent' }),
      expect.objectContaining({ author: 'bot', text: expect.stringMatching(/您好/), deliveryStatus: 'sent', outboxStatus: 'sent' }),
    ]);
    const menu = api.sentTo(user).find((c) => c.body.reply_markup?.inline_keyboard);
    // In the language of the consumer's Telegram app, although "/start" itself looks English.
    expect(menu?.body.text).toMatch(/您好/);

    api.reset();
    const press = pressed(user, 'refund', { message_id: 1001, reply_markup: menu?.body.reply_markup });
    expect((await post(press)).status).toBe(200);
    await vi.waitFor(() => expect(api.calls.filter((c) => c.method === 'answerCallbackQuery')).toHaveLength(1));
    expect(api.calls.find((c) => c.method === 'answerCallbackQuery')?.body.callback_query_id).toBe(press.callback_query.id);
    await service.settle();
    const last = (await inboundRows(user)).at(-1);
    // The stored text is what the consumer saw on the button they pressed.
    const refundLabel = menu?.body.reply_markup.inline_keyboard.flat().find((b: { callback_data: string }) => b.callback_data === 'refund')?.text;
    expect(refundLabel).toMatch(/退款/);
    expect(last).toMatchObject({ choice: 'refund', text: refundLabel });
    expect(api.sentTo(user)).toHaveLength(1);
  });

  it('lets a Telegram user share their phone, start the refund flow and reach a refund', async () => {
    const user = 7100011;
    const db = service.database.db;
    // An unused, unexpired coupon of a refund-anytime deal of the customer with phone 13800000001.
    const [target] = await db
      .select({ orderNumber: orders.orderNumber, code: coupons.code, couponId: coupons.id })
      .from(coupons)
      .innerJoin(orders, eq(orders.id, coupons.orderId))
      .innerJoin(deals, eq(deals.id, orders.dealId))
      .where(and(eq(orders.customerId, DEMO_SENIOR_CUSTOMER_ID), eq(coupons.state, 'unused'), eq(deals.refundAnytime, true), gt(coupons.expiresAt, new Date())))
      .limit(1);
    expect(target).toBeDefined();
    const lastKeyboard = () => api.sentTo(user).filter((c) => c.body.reply_markup?.inline_keyboard).at(-1);
    const press = async (find: (b: { text: string; callback_data: string }) => boolean) => {
      const keyboard = lastKeyboard();
      const button = keyboard?.body.reply_markup.inline_keyboard.flat().find(find);
      expect(button, `a button in ${JSON.stringify(keyboard?.body)}`).toBeDefined();
      expect((await post(pressed(user, button.callback_data, { message_id: 1, reply_markup: keyboard?.body.reply_markup }))).status).toBe(200);
      await service.settle();
    };

    await post(privateUpdate(user, { text: '/start' }));
    await service.settle();
    await post(privateUpdate(user, { contact: { phone_number: '+8613800000001', first_name: '秀兰', user_id: user } }));
    await service.settle();
    // The thank-you takes the share-my-phone keyboard away.
    expect(api.sentTo(user).at(-1)?.body).toMatchObject({ text: '谢谢，收到您的手机号了。', reply_markup: { remove_keyboard: true } });
    await press((b) => b.callback_data === 'refund');
    expect(lastKeyboard()?.body.text).toMatch(/哪一个订单/);
    await post(privateUpdate(user, { text: target!.orderNumber }));
    await service.settle();
    await press((b) => b.text.startsWith(target!.code));
    expect(lastKeyboard()?.body.text).toMatch(/可以退款/);
    await press((b) => b.callback_data === 'confirm_refund');
    expect(api.sentTo(user).at(-1)?.body.text).toMatch(/退款成功/);
    const [refund] = await db.select().from(refunds).where(eq(refunds.couponId, target!.couponId));
    expect(refund).toMatchObject({ customerId: DEMO_SENIOR_CUSTOMER_ID, policy: 'refund_anytime' });
    await vi.waitFor(() => expect(api.calls.filter((c) => c.method === 'answerCallbackQuery').length).toBeGreaterThanOrEqual(3));
  });

  it('keeps an edited message as a new version pointing at the original, and does not answer it again', async () => {
    const user = 7100004;
    await post(privateUpdate(user, { text: '我的订单号是 123' }, 'message', 77));
    await service.settle();
    expect(api.sentTo(user)).toHaveLength(1);
    const edit = privateUpdate(user, { text: '我的订单号是 456', edit_date: 1763802100 }, 'edited_message', 77);
    expect((await post(edit)).status).toBe(200);
    expect((await post(edit)).status).toBe(200);
    await service.settle();
    const [original, edited, ...rest] = await inboundRows(user);
    expect(rest).toHaveLength(0);
    expect(original?.text).toBe('我的订单号是 123');
    expect(original?.editOfMessageId).toBeNull();
    expect(edited).toMatchObject({ text: '我的订单号是 456', editOfMessageId: original?.id, externalId: `update:${edit.update_id}` });
    expect(api.sentTo(user)).toHaveLength(1);
  });

  it('stores a voice note and the bot says it cannot listen yet, with the menu buttons, through the outbox', async () => {
    const user = 7100005;
    await post(privateUpdate(user, { voice: { file_id: 'voice-file-1', duration: 4, mime_type: 'audio/ogg', file_size: 9000 } }));
    await service.settle();
    const [stored] = await inboundRows(user);
    expect(stored?.attachments).toEqual([expect.objectContaining({ kind: 'audio', ref: 'voice-file-1' })]);
    expect(api.sentTo(user)).toHaveLength(1);
    const [notice] = api.sentTo(user);
    expect(notice?.body.text).toMatch(/还听不了语音[\s\S]*您好/);
    const buttons = notice?.body.reply_markup.inline_keyboard.flat().map((b: { callback_data: string }) => b.callback_data);
    expect(buttons).toEqual(['account_help', 'refund', 'complaint', 'refund_status', 'order_help', 'human']);
    expect(await outgoing(user)).toEqual([
      expect.objectContaining({ author: 'bot', text: notice?.body.text, deliveryStatus: 'sent', outboxStatus: 'sent' }),
    ]);
    // Its buttons work like any menu.
    const press = pressed(user, 'refund', { message_id: 2000, reply_markup: notice?.body.reply_markup });
    expect((await post(press)).status).toBe(200);
    await service.settle();
    expect(api.sentTo(user)).toHaveLength(2);
    // The refund flow starts; this user has not proven who they are, so it asks them to share their phone number first.
    expect(api.sentTo(user)[1]?.body.text).toMatch(/分享您的手机号/);
    expect(api.sentTo(user)[1]?.body.reply_markup.keyboard[0][0]).toMatchObject({ request_contact: true });
  });

  it('stores photos with their caption and file_id', async () => {
    const user = 7100006;
    await post(privateUpdate(user, { caption: '券被拒收了', photo: [{ file_id: 'small', file_unique_id: 's', width: 90, height: 90 }, { file_id: 'big', file_unique_id: 'b', width: 900, height: 900, file_size: 80000 }] }));
    await service.settle();
    const [stored] = await inboundRows(user);
    expect(stored?.text).toBe('券被拒收了');
    expect(stored?.attachments).toEqual([expect.objectContaining({ kind: 'image', ref: 'big', size: 80000 })]);
  });

  it('links the Telegram user to the customer whose phone number they share, with an audit record', async () => {
    const user = 7100007;
    await post(privateUpdate(user, { text: '你好' }));
    await service.settle();
    const [before] = await service.database.db.select().from(channelIdentities).where(eq(channelIdentities.externalId, String(user)));
    expect(before?.customerId).not.toBe(DEMO_SENIOR_CUSTOMER_ID);

    // Someone else's contact proves nothing.
    await post(privateUpdate(user, { contact: { phone_number: '+8613800000001', first_name: '王秀兰', user_id: 9999 } }));
    await service.settle();
    const [still] = await service.database.db.select().from(channelIdentities).where(eq(channelIdentities.externalId, String(user)));
    expect(still?.customerId).toBe(before?.customerId);

    await post(privateUpdate(user, { contact: { phone_number: '+86 138 0000 0001', first_name: '秀兰', user_id: user } }));
    await service.settle();
    const [after] = await service.database.db.select().from(channelIdentities).where(eq(channelIdentities.externalId, String(user)));
    expect(after?.customerId).toBe(DEMO_SENIOR_CUSTOMER_ID);
    const [conversation] = await service.database.db.select().from(conversations).where(eq(conversations.channelIdentityId, after!.id));
    expect(conversation?.customerId).toBe(DEMO_SENIOR_CUSTOMER_ID);
    const audit = await service.database.db.select().from(auditLog).where(eq(auditLog.subjectId, after!.id));
    expect(audit).toEqual([
      expect.objectContaining({ action: 'channel_identity.relinked', data: { from: before?.customerId, to: DEMO_SENIOR_CUSTOMER_ID, reason: 'verified_phone' } }),
    ]);
    // The thank-you (only for the consumer's own contact) is in the transcript and went out through the outbox.
    const thanks = (await outgoing(user)).filter((m) => m.author === 'system');
    expect(thanks).toEqual([expect.objectContaining({ text: '谢谢，收到您的手机号了。', quickReplies: null, deliveryStatus: 'sent', outboxStatus: 'sent' })]);
    expect(api.sentTo(user).filter((c) => c.body.text === '谢谢，收到您的手机号了。')).toHaveLength(1);
    // Intake keeps phone numbers (agents call back on them); only card/ID numbers and codes are masked.
    const last = (await inboundRows(user)).at(-1);
    expect(last?.text).toBe('秀兰 +86 138 0000 0001');
  });

  it('ignores group chats politely and unknown update kinds, with 200 and no conversation', async () => {
    const group = -100777;
    const groupChat = { id: group, type: 'supergroup', title: 'Family' };
    const from = { id: 7100008, is_bot: false, first_name: 'A', language_code: 'en' };
    const chatter = { update_id: (nextUpdateId += 1), message: { message_id: 1, date: 1, chat: groupChat, from, text: 'refund please' } };
    const command = { update_id: (nextUpdateId += 1), message: { message_id: 2, date: 1, chat: groupChat, from, text: '/start' } };
    const unknown = { update_id: (nextUpdateId += 1), business_connection: { id: 'x' } };
    for (const update of [chatter, command, unknown]) expect((await post(update)).status).toBe(200);
    await service.settle();
    await vi.waitFor(() => expect(api.sentTo(group)).toHaveLength(1));
    expect(api.sentTo(group)[0]?.body.text).toMatch(/privately/);
    const identities = await service.database.db.select().from(channelIdentities).where(eq(channelIdentities.externalId, '7100008'));
    expect(identities).toHaveLength(0);
  });

  it('stops writing to a user who blocks the bot, and resumes when they unblock it', async () => {
    const user = 7100010;
    await post(privateUpdate(user, { text: 'hi' }));
    await service.settle();
    const membership = (status: string) => ({
      update_id: (nextUpdateId += 1),
      my_chat_member: {
        chat: { id: user, type: 'private', first_name: '秀兰' },
        from: { id: user, is_bot: false, first_name: '秀兰' },
        date: 1763802000,
        old_chat_member: { user: { id: 1, is_bot: true, first_name: 'kefu' }, status: status === 'kicked' ? 'member' : 'kicked' },
        new_chat_member: { user: { id: 1, is_bot: true, first_name: 'kefu' }, status },
      },
    });
    const identity = async () =>
      (await service.database.db.select().from(channelIdentities).where(eq(channelIdentities.externalId, String(user))))[0];
    expect((await post(membership('kicked'))).status).toBe(200);
    expect((await identity())?.unreachable).toBe(true);
    expect((await post(membership('member'))).status).toBe(200);
    expect((await identity())?.unreachable).toBe(false);
  });

  it('marks the identity unreachable when the user blocked the bot (403), without retrying', async () => {
    const user = 7100009;
    api.override((c) => (c.method === 'sendMessage' && Number(c.body.chat_id) === user ? botApiError(403, 'Forbidden: bot was blocked by the user') : undefined));
    await post(privateUpdate(user, { text: 'hi' }));
    await service.settle();
    expect(api.sentTo(user)).toHaveLength(1);
    const [identity] = await service.database.db.select().from(channelIdentities).where(eq(channelIdentities.externalId, String(user)));
    expect(identity?.unreachable).toBe(true);
    expect(identity?.unreachableReason).toMatch(/blocked/);
    const rows = await service.database.db
      .select({ status: outbox.status, attempts: outbox.attempts })
      .from(outbox)
      .innerJoin(conversations, eq(conversations.id, outbox.conversationId))
      .where(eq(conversations.channelIdentityId, identity!.id));
    expect(rows).toEqual([{ status: 'failed', attempts: 1 }]);
  });
});

describe.each(backends())('Telegram delivery timing on %s', (backend) => {
  it('honours 429 retry_after: the reply goes out after the wait, not before', async () => {
    const clock = new FakeClock(new Date('2026-11-22T09:00:00Z'));
    const service = await testService(backend, { env: ENV, clock });
    try {
      const user = 7200001;
      let limited = true;
      api.override((c) => {
        if (c.method !== 'sendMessage' || !limited) return undefined;
        limited = false;
        return botApiError(429, 'Too Many Requests: retry after 30', { retry_after: 30 });
      });
      const update = privateUpdate(user, { text: 'hello' });
      const res = await service.app.request('/api/telegram/webhook', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify(update),
      });
      expect(res.status).toBe(200);
      await service.settle();
      expect(api.sentTo(user)).toHaveLength(1); // the refused attempt
      const [row] = await service.database.db.select().from(outbox).where(eq(outbox.channel, 'telegram'));
      expect(row?.status).toBe('pending');
      expect(row!.nextAttemptAt.getTime() - clock.now().getTime()).toBeGreaterThanOrEqual(30_000);

      clock.advance(29_000);
      expect(await service.outbox.runOnce()).toBe(0);
      expect(api.sentTo(user)).toHaveLength(1);

      clock.advance(2_000);
      expect(await service.outbox.runOnce()).toBe(1);
      expect(api.sentTo(user)).toHaveLength(2);
      const [sent] = await service.database.db.select().from(outbox).where(eq(outbox.id, row!.id));
      expect(sent?.status).toBe('sent');
      const [reply] = await service.database.db.select().from(messages).where(eq(messages.id, row!.messageId));
      expect(reply?.deliveryStatus).toBe('sent');
      expect(reply?.externalId).toMatch(new RegExp(`^msg:${user}:\\d+$`));
    } finally {
      await service.close();
    }
  });

  it('retries a notice the Bot API refused with a 5xx, and keeps the conversation\'s order', async () => {
    const clock = new FakeClock(new Date('2026-11-22T09:00:00Z'));
    const service = await testService(backend, { env: ENV, clock });
    try {
      const user = 7200003;
      let failures = 0;
      api.override((c) => {
        if (c.method !== 'sendMessage' || Number(c.body.chat_id) !== user || !c.body.reply_markup?.keyboard || failures > 0) return undefined;
        failures += 1;
        return botApiError(502, 'Bad Gateway');
      });
      const res = await service.app.request('/api/telegram/webhook', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify(privateUpdate(user, { text: '/start' })),
      });
      expect(res.status).toBe(200);
      await service.settle();
      // The refused prompt waits for its retry, and the menu waits behind it.
      expect(api.sentTo(user)).toHaveLength(1);
      const [prompt, menu] = await outgoingOf(service, user);
      expect(prompt).toMatchObject({ author: 'system', outboxStatus: 'pending', attempts: 1, deliveryStatus: 'pending', lastError: expect.stringMatching(/502/) });
      expect(menu).toMatchObject({ author: 'bot', outboxStatus: 'pending', attempts: 0 });

      clock.advance(3_000); // past the first backoff (2 s ± 20 %)
      await service.settle();
      const sent = api.sentTo(user);
      expect(sent).toHaveLength(3);
      expect(sent[1]?.body.reply_markup.keyboard[0][0]).toEqual({ text: '发送我的手机号', request_contact: true });
      expect(sent[2]?.body.text).toMatch(/您好/);
      expect(await outgoingOf(service, user)).toEqual([
        expect.objectContaining({ author: 'system', outboxStatus: 'sent', attempts: 2, deliveryStatus: 'sent' }),
        expect.objectContaining({ author: 'bot', outboxStatus: 'sent', attempts: 1, deliveryStatus: 'sent' }),
      ]);
    } finally {
      await service.close();
    }
  });

  it('long-polls getUpdates in polling mode and stops cleanly', async () => {
    const service = await testService(backend, { env: { TELEGRAM_MODE: 'polling', TELEGRAM_BOT_TOKEN: '123456:TEST-TOKEN' } });
    try {
      const user = 7200002;
      api.queueUpdates([privateUpdate(user, { text: '你好' })]);
      await service.start();
      await vi.waitFor(async () => expect(api.sentTo(user)).toHaveLength(1), { timeout: 10_000 });
      const methods = api.calls.map((c) => c.method);
      expect(methods[0]).toBe('deleteWebhook');
      expect(methods).toContain('getUpdates');
      // The next poll acknowledges the update by asking from the following offset.
      const offsets = api.calls.filter((c) => c.method === 'getUpdates').map((c) => c.body.offset);
      await vi.waitFor(() => expect(api.calls.filter((c) => c.method === 'getUpdates').length).toBeGreaterThan(offsets.length));
      expect(api.calls.filter((c) => c.method === 'getUpdates').at(-1)?.body.offset).toBeGreaterThan(nextUpdateId - 1);
      // No webhook route in polling mode.
      const res = await service.app.request('/api/telegram/webhook', { method: 'POST', body: '{}' });
      expect(res.status).toBe(404);
    } finally {
      await service.close();
    }
    const polls = api.calls.filter((c) => c.method === 'getUpdates').length;
    await new Promise((r) => setTimeout(r, 150));
    expect(api.calls.filter((c) => c.method === 'getUpdates').length).toBe(polls);
  });
});
