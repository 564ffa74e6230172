import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Api, GrammyError, HttpError } from 'grammy';
import { parse } from 'yaml';
import { z } from 'zod';
import type { ChannelAdapter, SendResult } from '../../src/core/channel.js';
import { redactSecrets } from '../../src/core/redact.js';
import { type ChannelNotice, Locale, type OutboundMessage, type QuickReply, SHARE_PHONE_REPLY_ID } from '../../src/core/message.js';
import { type ParsedUpdate, parseUpdate } from './parse-update.js';
import { type InlineKeyboard, inlineKeyboard, splitText, TELEGRAM_MAX_TEXT } from './render.js';
import { ALLOWED_UPDATES } from './update.js';
import { FileTooLarge } from '../../src/core/sniff.js';
import { loadCatalog } from '../../src/i18n/catalog.js';

/** What the consumer is told about a photo or document we do not take (locales/<l>/attachments.yaml). */
function fileRefusedNotice(reason: 'too_big' | 'type', filename: string | null, locale: Locale, maxBytes: number | undefined): ChannelNotice {
  const words = loadCatalog('attachments');
  const name = filename ?? words.t(locale, 'unnamed');
  const mb = maxBytes === undefined ? '' : String(Number((maxBytes / 1048576).toPrecision(2)));
  return { text: words.t(locale, reason === 'too_big' ? 'notice.tooBig' : 'notice.type', { name, mb }), quickReplies: [] };
}

export { MENU_COMMAND_DATA, type ParsedUpdate, type TelegramNotice } from './parse-update.js';

const Localized = z.object({ 'zh-Hans': z.string().min(1), 'zh-Hant': z.string().min(1), en: z.string().min(1) });

/** channels/telegram/messages.yaml: what the channel says by itself. */
export const TelegramMessages = z.object({
  menu_command: Localized,
  share_phone: z.object({ text: Localized, button: Localized }),
  phone_received: z.object({ text: Localized }),
  group_unsupported: z.object({ text: Localized }),
});
export type TelegramMessages = z.infer<typeof TelegramMessages>;

export const TELEGRAM_MESSAGES_FILE = join(import.meta.dirname, 'messages.yaml');

/** Loads and validates the channel's own wording. */
export function loadTelegramMessages(path: string = TELEGRAM_MESSAGES_FILE): TelegramMessages {
  return TelegramMessages.parse(parse(readFileSync(path, 'utf8')));
}

/** The few logger methods the adapter uses (pino's Logger fits). */
export interface AdapterLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface TelegramAdapterOptions {
  token: string;
  /** Secret Telegram echoes in `X-Telegram-Bot-Api-Secret-Token`; required for webhook mode. */
  webhookSecret?: string | undefined;
  /** Bot API base URL (default https://api.telegram.org). */
  apiRoot?: string;
  messages?: TelegramMessages;
  log?: AdapterLog;
  /** ATTACHMENT_MAX_BYTES: larger photos and documents are refused (and never downloaded). */
  maxFileBytes?: number;
  /** Long polling (development): each update goes here, in order. Without it start() does nothing. */
  polling?: { onUpdate(update: unknown): Promise<void>; timeoutSeconds?: number };
}

/** The Telegram channel: the core's ChannelAdapter plus what the webhook route and the CLI need. */
export interface TelegramAdapter extends ChannelAdapter {
  /** Constant-time check of the webhook's secret header. */
  verifyWebhookSecret(header: string | undefined | null): boolean;
  parseUpdate(raw: unknown): ParsedUpdate;
  /** Downloads a file by its file_id (getFile, then the file URL); errors never name the token. */
  fetchFile(fileId: string): Promise<Uint8Array>;
  /** Stops the spinner on a pressed inline button. */
  answerCallbackQuery(id: string): Promise<void>;
  /**
   * Sends the one short note for a group chat directly: a group has no conversation, so there is
   * no outbox row to deliver it (private-chat notices go through the outbox with their message).
   */
  sendGroupNotice(chatId: number, locale: Locale): Promise<void>;
  setWebhook(url: string, options?: { dropPendingUpdates?: boolean }): Promise<void>;
  deleteWebhook(options?: { dropPendingUpdates?: boolean }): Promise<void>;
}

const noLog: AdapterLog = { info: () => {}, warn: () => {} };

/** Conversation thread key: a "share my phone number" reply keyboard is showing in the chat. */
const CONTACT_KEYBOARD = 'telegramContactKeyboard';

type ReplyMarkup =
  | InlineKeyboard
  | { keyboard: ({ text: string; request_contact: true } | { text: string })[][]; resize_keyboard: true; one_time_keyboard: true }
  | { remove_keyboard: true };

/** A private-chat notice as the conversation's message, in the consumer's language. */
export function noticeMessage(messages: TelegramMessages, notice: 'share_phone' | 'phone_received', locale: Locale): ChannelNotice {
  switch (notice) {
    case 'share_phone':
      return { text: messages.share_phone.text[locale], quickReplies: [{ id: SHARE_PHONE_REPLY_ID, label: messages.share_phone.button[locale] }] };
    case 'phone_received':
      return { text: messages.phone_received.text[locale], quickReplies: [] };
  }
}

/**
 * The reply markup for a message: a `share_phone` quick reply becomes a reply keyboard whose first
 * button shares the phone number (the other quick replies become plain keyboard buttons that send
 * their label); otherwise an inline keyboard. A contact keyboard still showing is removed by the
 * next message without buttons (the thanks after a shared contact, or the next plain answer).
 */
function replyMarkup(
  quickReplies: QuickReply[],
  contactKeyboardShown: boolean,
): { markup: ReplyMarkup | null; dropped: string[]; contactKeyboard: boolean | null } {
  const share = quickReplies.find((q) => q.id === SHARE_PHONE_REPLY_ID);
  if (share) {
    const rest = quickReplies.filter((q) => q !== share).map((q) => [{ text: q.label }]);
    return {
      markup: { keyboard: [[{ text: share.label, request_contact: true }], ...rest], resize_keyboard: true, one_time_keyboard: true },
      dropped: [],
      contactKeyboard: true,
    };
  }
  const { keyboard, dropped } = inlineKeyboard(quickReplies);
  if (keyboard) return { markup: keyboard, dropped, contactKeyboard: null };
  if (contactKeyboardShown) return { markup: { remove_keyboard: true }, dropped, contactKeyboard: false };
  return { markup: null, dropped, contactKeyboard: null };
}

/** Builds the Telegram adapter on grammY's Api client (no Bot instance, so no getMe at start). */
export function createTelegramAdapter(options: TelegramAdapterOptions): TelegramAdapter {
  const api = new Api(options.token, options.apiRoot ? { apiRoot: options.apiRoot } : {});
  const messages = options.messages ?? loadTelegramMessages();
  const log = options.log ?? noLog;
  const secretDigest = options.webhookSecret ? digest(options.webhookSecret) : null;
  let poll: { controller: AbortController; done: Promise<void> } | null = null;

  const fileRoot = `${(options.apiRoot ?? 'https://api.telegram.org').replace(/\/$/, '')}/file/bot`;

  async function fetchFile(fileId: string): Promise<Uint8Array> {
    let path: string | undefined;
    try {
      path = (await api.getFile(fileId)).file_path;
    } catch (err) {
      // grammY's errors name the method, not the URL; redacted all the same.
      throw new Error(redactSecrets(`telegram getFile failed: ${err instanceof Error ? err.message : String(err)}`));
    }
    if (!path) throw new Error('telegram getFile returned no file_path (file too big for the Bot API?)');
    // The download URL carries the token: it never appears in an error or a log line.
    const res = await fetch(`${fileRoot}${options.token}/${path.split('/').map(encodeURIComponent).join('/')}`).catch((err: unknown) => {
      throw new Error(`telegram file download failed: ${err instanceof Error ? err.name : 'network error'}`);
    });
    if (!res.ok) throw new Error(`telegram file download failed: HTTP ${res.status}`);
    const limit = options.maxFileBytes;
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (limit !== undefined && declared > limit) {
      // Not awaited: the rest of the body is dropped, not read.
      res.body?.cancel().catch(() => {});
      throw new FileTooLarge(limit);
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (limit !== undefined && bytes.length > limit) throw new FileTooLarge(limit);
    return bytes;
  }

  async function send(message: OutboundMessage): Promise<SendResult> {
    const chatId = message.recipient.externalId;
    const parts = splitText(message.text, TELEGRAM_MAX_TEXT);
    const { markup, dropped, contactKeyboard } = replyMarkup(message.quickReplies, message.thread[CONTACT_KEYBOARD] === true);
    if (dropped.length > 0) log.warn({ messageId: message.messageId, dropped }, 'telegram.buttons_dropped');
    try {
      let lastId = 0;
      for (const [i, part] of parts.entries()) {
        const last = i === parts.length - 1;
        // Plain text (no parse_mode): what the flows wrote is shown as is, with nothing to escape.
        const sent = await api.sendMessage(chatId, part, last && markup ? { reply_markup: markup } : {});
        lastId = sent.message_id;
      }
      return {
        ok: true,
        externalId: `msg:${chatId}:${lastId}`,
        ...(contactKeyboard === null ? {} : { thread: { [CONTACT_KEYBOARD]: contactKeyboard } }),
      };
    } catch (err) {
      return sendFailure(err);
    }
  }

  async function pollLoop(signal: AbortSignal, onUpdate: (update: unknown) => Promise<void>, timeout: number) {
    let offset = 0;
    let failures = 0;
    let webhookRemoved = false;
    // Driver boundary: grammY's Node typings name the abort-controller polyfill's AbortSignal; node-fetch takes the native one.
    const grammySignal = signal as unknown as Parameters<typeof api.getUpdates>[1];
    while (!signal.aborted) {
      try {
        // getUpdates is refused while a webhook is registered.
        if (!webhookRemoved) {
          await api.deleteWebhook({ drop_pending_updates: false }, grammySignal);
          webhookRemoved = true;
        }
        const updates = await api.getUpdates({ offset, timeout, allowed_updates: [...ALLOWED_UPDATES] }, grammySignal);
        failures = 0;
        for (const update of updates) {
          if (signal.aborted) return;
          // A failing update is logged by the handler and skipped: one bad update must not block the rest.
          await onUpdate(update).catch((err: unknown) => log.warn({ err, updateId: update.update_id }, 'telegram.update_failed'));
          offset = update.update_id + 1;
        }
      } catch (err) {
        if (signal.aborted) return;
        failures += 1;
        const waitMs = Math.min(1000 * 2 ** (failures - 1), 30_000);
        log.warn({ err: describe(err), waitMs }, 'telegram.poll_failed');
        await sleep(waitMs, signal);
      }
    }
  }

  return {
    kind: 'telegram',
    capabilities: { buttons: true, maxTextLength: TELEGRAM_MAX_TEXT, formatting: 'plain', contactRequest: true, proofRemedy: 'share_contact' },
    send,
    parseUpdate: (raw) =>
      parseUpdate(raw, {
        menuCommand: messages.menu_command,
        notice: (notice, locale) => noticeMessage(messages, notice, locale),
        ...(options.maxFileBytes !== undefined ? { maxFileBytes: options.maxFileBytes } : {}),
        fileRefused: (reason, filename, locale) => fileRefusedNotice(reason, filename, locale, options.maxFileBytes),
      }),
    fetchFile,
    verifyWebhookSecret(header) {
      if (!secretDigest || !header) return false;
      return timingSafeEqual(digest(header), secretDigest);
    },
    async answerCallbackQuery(id) {
      await api.answerCallbackQuery(id);
    },
    async sendGroupNotice(chatId, locale) {
      await api.sendMessage(chatId, messages.group_unsupported.text[Locale.parse(locale)]);
    },
    async setWebhook(url, opts = {}) {
      if (!options.webhookSecret) throw new Error('TELEGRAM_WEBHOOK_SECRET is needed to register a webhook');
      await api.setWebhook(url, {
        secret_token: options.webhookSecret,
        allowed_updates: [...ALLOWED_UPDATES],
        drop_pending_updates: opts.dropPendingUpdates ?? false,
      });
    },
    async deleteWebhook(opts = {}) {
      await api.deleteWebhook({ drop_pending_updates: opts.dropPendingUpdates ?? false });
    },
    async start() {
      const polling = options.polling;
      if (!polling || poll) return;
      // The loop retries with backoff: an unreachable Bot API must not stop the service from starting.
      const controller = new AbortController();
      poll = { controller, done: pollLoop(controller.signal, polling.onUpdate, polling.timeoutSeconds ?? 25) };
      log.info({}, 'telegram.polling_started');
    },
    async stop() {
      if (!poll) return;
      poll.controller.abort();
      await poll.done;
      poll = null;
    },
  };
}

/** "The remote said no" is final (except 429 and 5xx); "could not reach it" is retried. */
export function sendFailure(err: unknown): SendResult {
  if (err instanceof GrammyError) {
    const error = `telegram ${err.error_code}: ${err.description}`;
    if (err.error_code === 429) {
      const seconds = err.parameters.retry_after ?? 1;
      return { ok: false, retryable: true, retryAfterMs: seconds * 1000, error };
    }
    // 403: the user blocked the bot or deleted their account; nothing we send will arrive.
    if (err.error_code === 403) return { ok: false, retryable: false, unreachable: true, error };
    return { ok: false, retryable: err.error_code >= 500, error };
  }
  if (err instanceof HttpError) return { ok: false, retryable: true, error: `telegram unreachable: ${describe(err.error)}` };
  return { ok: false, retryable: true, error: describe(err) };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

// Network errors quote the request URL, which holds the bot token.
function describe(err: unknown): string {
  return redactSecrets(err instanceof Error ? err.message : String(err));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
