import { Command } from 'commander';
import { HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTelegramAdapter } from '../../channels/telegram/index.js';
import type { OutboundMessage } from '../../src/core/message.js';
import { registerTelegramCommands } from '../../src/cli/telegram.js';
import { botApiError, fakeBotApi } from '../integration/telegram-fake-bot-api.js';

const api = fakeBotApi();
beforeAll(() => api.listen());
afterEach(() => {
  api.reset();
  vi.unstubAllEnvs();
});
afterAll(() => api.close());

const adapter = createTelegramAdapter({ token: '123456:TEST-TOKEN', webhookSecret: 'the-secret' });

function outbound(text: string, quickReplies: OutboundMessage['quickReplies'] = []): OutboundMessage {
  return {
    messageId: 'm-1',
    conversationId: 'c-1',
    channel: 'telegram',
    recipient: { channelIdentityId: 'i-1', externalId: '7300001', displayName: null },
    author: 'bot',
    text,
    quickReplies,
    locale: 'zh-Hans',
    thread: {},
    createdAt: new Date('2026-11-22T09:00:00Z'),
  };
}

describe('Telegram send', () => {
  it('splits long texts at 4096, sends them as plain text, with the keyboard on the last part', async () => {
    const paragraph = `退款说明 (第1步): 请点“申请退款”_*[]~\`>#+-=|{}.! ${'很'.repeat(1400)}`;
    const text = Array.from({ length: 6 }, () => paragraph).join('\n\n');
    expect(text.length).toBeGreaterThan(8192);
    const result = await adapter.send(outbound(text, [{ id: 'refund', label: '申请退款' }, { id: 'human', label: '找人工客服' }]));
    const sends = api.calls.filter((c) => c.method === 'sendMessage');
    expect(sends).toHaveLength(3);
    for (const s of sends) {
      expect(s.body.text.length).toBeLessThanOrEqual(4096);
      expect(s.body.parse_mode).toBeUndefined();
      expect(s.body.chat_id).toBe('7300001');
    }
    // Reserved Markdown characters arrive exactly as written.
    expect(sends[0]?.body.text.startsWith(paragraph)).toBe(true);
    expect(sends.map((s) => s.body.text).join('\n\n')).toBe(text);
    expect(sends.slice(0, 2).every((s) => s.body.reply_markup === undefined)).toBe(true);
    expect(sends[2]?.body.reply_markup).toEqual({
      inline_keyboard: [[{ text: '申请退款', callback_data: 'refund' }], [{ text: '找人工客服', callback_data: 'human' }]],
    });
    expect(result).toEqual({ ok: true, externalId: expect.stringMatching(/^msg:7300001:\d+$/) });
  });

  it('splits "the remote said no" from "could not reach it"', async () => {
    const answers: Response[] = [
      botApiError(429, 'Too Many Requests: retry after 7', { retry_after: 7 }),
      botApiError(403, 'Forbidden: user is deactivated'),
      botApiError(400, 'Bad Request: chat not found'),
      botApiError(502, 'Bad Gateway'),
      HttpResponse.error(),
    ];
    api.override(() => answers.shift());
    const results = [];
    for (let i = 0; i < 5; i += 1) results.push(await adapter.send(outbound('hi')));
    expect(results[0]).toMatchObject({ ok: false, retryable: true, retryAfterMs: 7000 });
    expect(results[1]).toMatchObject({ ok: false, retryable: false, unreachable: true });
    expect(results[2]).toMatchObject({ ok: false, retryable: false });
    expect(results[2]).not.toHaveProperty('unreachable');
    expect(results[3]).toMatchObject({ ok: false, retryable: true });
    expect(results[4]).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/unreachable/) });
    expect(results[4]).not.toHaveProperty('unreachable');
  });

  it('shows the share_phone quick reply as a request_contact keyboard, and removes it with the next message without buttons', async () => {
    const share = await adapter.send(outbound('点下面的按钮', [{ id: 'share_phone', label: '发送我的手机号' }]));
    // The adapter remembers on the conversation that the keyboard is up.
    expect(share).toEqual({ ok: true, externalId: expect.stringMatching(/^msg:7300001:\d+$/), thread: { telegramContactKeyboard: true } });
    const menu = await adapter.send({ ...outbound('请选择', [{ id: 'refund', label: '申请退款' }]), thread: { telegramContactKeyboard: true } });
    expect(menu).not.toHaveProperty('thread');
    const thanks = await adapter.send({ ...outbound('谢谢'), thread: { telegramContactKeyboard: true } });
    expect(thanks).toMatchObject({ ok: true, thread: { telegramContactKeyboard: false } });
    const plain = await adapter.send({ ...outbound('好的'), thread: { telegramContactKeyboard: false } });
    expect(plain).not.toHaveProperty('thread');
    const markups = api.calls.filter((c) => c.method === 'sendMessage').map((c) => c.body.reply_markup);
    expect(markups).toEqual([
      { keyboard: [[{ text: '发送我的手机号', request_contact: true }]], resize_keyboard: true, one_time_keyboard: true },
      { inline_keyboard: [[{ text: '申请退款', callback_data: 'refund' }]] },
      { remove_keyboard: true },
      undefined,
    ]);
  });

  it('says what it can show', () => {
    expect(adapter.capabilities).toEqual({ buttons: true, maxTextLength: 4096, formatting: 'plain', contactRequest: true, proofRemedy: 'share_contact' });
  });
});

describe('webhook secret', () => {
  it('accepts only the exact secret', () => {
    expect(adapter.verifyWebhookSecret('the-secret')).toBe(true);
    expect(adapter.verifyWebhookSecret('the-secreT')).toBe(false);
    expect(adapter.verifyWebhookSecret('the-secret-and-more')).toBe(false);
    expect(adapter.verifyWebhookSecret('')).toBe(false);
    expect(adapter.verifyWebhookSecret(undefined)).toBe(false);
    const noSecret = createTelegramAdapter({ token: '1:x' });
    expect(noSecret.verifyWebhookSecret('anything')).toBe(false);
  });
});

describe('kefu telegram', () => {
  async function run(...args: string[]) {
    const program = new Command().exitOverride();
    registerTelegramCommands(program);
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
    try {
      await program.parseAsync(['node', 'kefu', 'telegram', ...args]);
    } finally {
      write.mockRestore();
    }
    return out.join('');
  }

  it('set-webhook registers PUBLIC_URL/api/telegram/webhook with the secret', async () => {
    vi.stubEnv('TELEGRAM_BOT_TOKEN', '123456:TEST-TOKEN');
    vi.stubEnv('TELEGRAM_WEBHOOK_SECRET', 'the-secret');
    vi.stubEnv('PUBLIC_URL', 'https://kefu.example.com');
    const out = await run('set-webhook');
    expect(out).toContain('https://kefu.example.com/api/telegram/webhook');
    const [set] = api.calls;
    expect(set?.method).toBe('setWebhook');
    expect(set?.body).toMatchObject({ url: 'https://kefu.example.com/api/telegram/webhook', secret_token: 'the-secret', drop_pending_updates: false });
    expect(set?.body.allowed_updates).toEqual(['message', 'edited_message', 'callback_query', 'my_chat_member']);
  });

  it('delete-webhook removes it; a refusal from Telegram is reported, not thrown raw', async () => {
    vi.stubEnv('TELEGRAM_BOT_TOKEN', '123456:TEST-TOKEN');
    expect(await run('delete-webhook', '--drop-pending')).toContain('webhook deleted');
    expect(api.calls[0]).toMatchObject({ method: 'deleteWebhook', body: { drop_pending_updates: true } });
    api.override(() => botApiError(401, 'Unauthorized'));
    await expect(run('delete-webhook')).rejects.toThrow(/Telegram refused: Unauthorized/);
  });

  it('set-webhook needs the secret', async () => {
    vi.stubEnv('TELEGRAM_BOT_TOKEN', '123456:TEST-TOKEN');
    vi.stubEnv('TELEGRAM_WEBHOOK_SECRET', '');
    await expect(run('set-webhook')).rejects.toThrow(/TELEGRAM_WEBHOOK_SECRET/);
    expect(api.calls).toHaveLength(0);
  });
});
