import { z } from 'zod';
import type { SenderIdentityInput } from '../../src/core/identity.js';
import { type Attachment, type ChannelNotice, InboundMessage, type Locale } from '../../src/core/message.js';
import {
  TelegramCallbackQuery,
  TelegramChatMemberUpdated,
  TelegramMessage,
  TelegramUpdate,
  type TelegramUser,
} from './update.js';

/**
 * Something the Telegram channel says by itself (wording in messages.yaml), next to the flows' replies.
 * In a private chat it goes out through the outbox with the stored message (`inbound.notices`);
 * only `group_unsupported` is sent directly, because a group has no conversation to store it in.
 */
export const TelegramNotice = z.enum(['share_phone', 'phone_received', 'group_unsupported']);
export type TelegramNotice = z.infer<typeof TelegramNotice>;

export const IgnoreReason = z.enum([
  'unknown_update_kind',
  'malformed',
  'not_private_chat',
  'no_sender',
  'from_bot',
  'unsupported_content',
]);
export type IgnoreReason = z.infer<typeof IgnoreReason>;

/** Side effects the intake runs for an update, whether or not a message is stored. */
interface Effects {
  updateId: number;
  updateKind: string;
  /** The chat to send a notice to. */
  chatId: number | null;
  locale: Locale;
  notice: TelegramNotice | null;
  /** Answer this callback query so the pressed button stops spinning. */
  callbackQueryId: string | null;
  /** The user blocked (false) or unblocked (true) the bot in their private chat. */
  reachability: { externalId: string; reachable: boolean } | null;
}

/** What one update turns into: a message for the core, an ignored update, or a body that is no update. */
export type ParsedUpdate =
  | (Effects & {
      kind: 'message';
      inbound: InboundMessage;
      /** The sender shared their own phone number (national digits): link them to that customer. */
      verifiedPhone: string | null;
    })
  | (Effects & { kind: 'ignored'; reason: IgnoreReason })
  | { kind: 'invalid'; error: string };

/** Maps Telegram's `language_code` (IETF tag of the user's app) to a kefu locale. */
export function localeOf(user: TelegramUser | undefined): Locale | null {
  const code = user?.language_code?.toLowerCase();
  if (!code) return null;
  if (code.startsWith('zh')) return /hant|tw|hk|mo/.test(code) ? 'zh-Hant' : 'zh-Hans';
  if (code.startsWith('en')) return 'en';
  return null;
}

/** National digits of a phone number: what customers are stored with (mainland numbers lose +86). */
export function normalizePhone(raw: string): string {
  const digits = raw.replace(/\D/g, '');
  if (digits.length === 13 && digits.startsWith('861')) return digits.slice(2);
  return digits;
}

/** A Telegram unix time as a Date; out of range (a forged `date: 9000000000000000`) means "now". */
function telegramTime(seconds: number): Date | null {
  const at = new Date(seconds * 1000);
  return Number.isNaN(at.getTime()) || at.getFullYear() > 9999 || at.getFullYear() < 2000 ? null : at;
}

function displayName(user: TelegramUser): string | null {
  const name = [user.first_name, user.last_name].filter(Boolean).join(' ').trim();
  return (name || user.username || null)?.slice(0, 200) ?? null;
}

function updateKindOf(raw: Record<string, unknown>): string {
  return Object.keys(raw).find((k) => k !== 'update_id') ?? 'empty';
}

/** Callback data of a channel button that stands for typing the menu command (see messages.yaml). */
export const MENU_COMMAND_DATA = 'cmd:menu';

/** Words the parser puts in the consumer's mouth for Telegram commands (messages.yaml `menu_command`). */
export interface ParseWords {
  /** What `/start` and a `cmd:menu` button say: a menu command of the flows, per locale. */
  menuCommand: Record<Locale, string>;
  /** A private-chat notice as the message the conversation gets. */
  notice(notice: 'share_phone' | 'phone_received', locale: Locale): ChannelNotice;
  /** Photos and documents larger than this are refused up front (Telegram tells the size); default: no limit. */
  maxFileBytes?: number;
  /** What the consumer is told about a photo or document that is not taken (too big, not a photo/PDF). */
  fileRefused?(reason: 'too_big' | 'type', filename: string | null, locale: Locale): ChannelNotice;
}

/** Document types worth downloading: photos (HEIC is converted) and PDFs. The bytes decide in the end. */
const FETCHED_TYPES = new Set(['image/jpeg', 'image/png', 'image/heic', 'image/heif', 'application/pdf']);

/**
 * Turns a Telegram update (webhook body or getUpdates item) into the core's InboundMessage, or
 * says why it is ignored. Pure: no network, no database.
 */
export function parseUpdate(raw: unknown, words: ParseWords): ParsedUpdate {
  const base = TelegramUpdate.safeParse(raw);
  if (!base.success) return { kind: 'invalid', error: base.error.issues[0]?.message ?? 'not a Telegram update' };
  const update = base.data;
  const updateKind = updateKindOf(update);
  const effects: Effects = { updateId: update.update_id, updateKind, chatId: null, locale: 'zh-Hans', notice: null, callbackQueryId: null, reachability: null };
  const ignore = (reason: IgnoreReason, more: Partial<Effects> = {}): ParsedUpdate => ({ ...effects, ...more, kind: 'ignored', reason });

  switch (updateKind) {
    case 'message':
    case 'edited_message': {
      const parsed = TelegramMessage.safeParse(update[updateKind]);
      if (!parsed.success) return ignore('malformed');
      return fromMessage(parsed.data, updateKind === 'edited_message', effects, ignore, words);
    }
    case 'callback_query': {
      const parsed = TelegramCallbackQuery.safeParse(update.callback_query);
      if (!parsed.success) return ignore('malformed');
      return fromCallbackQuery(parsed.data, effects, ignore, words);
    }
    case 'my_chat_member': {
      const parsed = TelegramChatMemberUpdated.safeParse(update.my_chat_member);
      if (!parsed.success) return ignore('malformed');
      const { chat, new_chat_member: member, from } = parsed.data;
      const added = member.status === 'member' || member.status === 'administrator';
      // Added to a group: say once that we talk privately.
      if (chat.type !== 'private' && added) {
        return ignore('not_private_chat', { chatId: chat.id, notice: 'group_unsupported', locale: localeOf(from) ?? 'zh-Hans' });
      }
      if (chat.type !== 'private') return ignore('not_private_chat');
      // In a private chat the bot's membership is the user blocking ("kicked") or unblocking it.
      return ignore('unsupported_content', { reachability: { externalId: String(from.id), reachable: member.status !== 'kicked' } });
    }
    default:
      return ignore('unknown_update_kind');
  }
}

function fromMessage(
  message: TelegramMessage,
  edited: boolean,
  effects: Effects,
  ignore: (reason: IgnoreReason, more?: Partial<Effects>) => ParsedUpdate,
  words: ParseWords,
): ParsedUpdate {
  const { chat, from } = message;
  const locale = localeOf(from);
  if (chat.type !== 'private') {
    // Only a command addressed to us in a group gets the one short note; other chatter is not ours.
    const command = !edited && /^\/start(@\w+)?\b/.test(message.text ?? '');
    return ignore('not_private_chat', command ? { chatId: chat.id, notice: 'group_unsupported', locale: locale ?? 'zh-Hans' } : {});
  }
  if (!from) return ignore('no_sender');
  if (from.is_bot) return ignore('from_bot');

  const attachments: Attachment[] = [];
  const refusals: ChannelNotice[] = [];
  type TelegramFile = { file_id: string; file_name?: string | undefined; mime_type?: string | undefined; file_size?: number | undefined };
  const file = (kind: Attachment['kind'], f: TelegramFile, evidence = false) => {
    const entry: Attachment = { kind, filename: f.file_name ?? null, contentType: f.mime_type ?? null, size: f.file_size ?? null, ref: f.file_id, inline: false };
    if (evidence && !edited) {
      // Photos and documents are kept like web chat uploads, fetched by the processing step (never
      // before the webhook's answer); what cannot be kept is refused now, in the consumer's language.
      const refused =
        words.maxFileBytes !== undefined && f.file_size !== undefined && f.file_size > words.maxFileBytes
          ? 'too_big'
          : f.mime_type !== undefined && !FETCHED_TYPES.has(f.mime_type.toLowerCase())
            ? 'type'
            : null;
      if (refused) {
        entry.refused = refused;
        if (words.fileRefused) refusals.push(words.fileRefused(refused, entry.filename, locale ?? 'zh-Hans'));
      } else entry.fetch = true;
    }
    attachments.push(entry);
  };
  // Telegram sends every size of a photo; the last one is the largest.
  const photo = message.photo?.at(-1);
  if (photo) file('image', { ...photo, mime_type: 'image/jpeg' }, true);
  if (message.document) file('document', message.document, true);
  if (message.voice) file('audio', message.voice);
  if (message.audio) file('audio', message.audio);
  if (message.video) file('video', message.video);
  if (message.video_note) file('video', message.video_note);

  let text = message.text ?? message.caption ?? '';
  if (message.sticker && text === '') text = message.sticker.emoji ?? '';
  let verifiedPhone: string | null = null;
  let notice: 'share_phone' | 'phone_received' | null = null;
  const contact = message.contact;
  if (contact) {
    // Only the sender's own contact (shared with the request_contact button) proves their number.
    if (contact.user_id === from.id) {
      const digits = normalizePhone(contact.phone_number);
      // No real number has more than 15 digits (E.164): a longer one proves nothing and is not linked.
      verifiedPhone = digits.length >= 5 && digits.length <= 15 ? digits : null;
      notice = 'phone_received';
    }
    text = [contact.first_name, contact.last_name, contact.phone_number].filter(Boolean).join(' ');
  }
  if (text === '' && attachments.length === 0) return ignore('unsupported_content');

  let original: string | null = null;
  if (/^\/start(@\w+)?(\s|$)/.test(text)) {
    // The Start button: the app sends "/start", which is no language. The flows get the menu
    // command in the app's language instead; the command itself is kept for agents.
    original = text;
    text = words.menuCommand[locale ?? 'zh-Hans'];
    if (!edited) notice = 'share_phone';
  }
  const ref = `${chat.id}:${message.message_id}`;
  const inbound = InboundMessage.parse({
    channel: 'telegram',
    externalMessageId: `update:${effects.updateId}`,
    sender: { externalId: String(from.id), displayName: displayName(from), phone: verifiedPhone },
    text,
    attachments,
    locale,
    original,
    // Edits are kept as a new version and not answered; a shared contact is answered by the
    // channel's notice, not by the flows (which cannot use it). A voice note goes to the flows,
    // which say they cannot listen yet.
    silent: edited || contact !== undefined,
    channelMessageRef: ref,
    editOf: edited ? ref : null,
    receivedAt: telegramTime(message.edit_date ?? message.date),
    notices: [...(notice ? [words.notice(notice, locale ?? 'zh-Hans')] : []), ...refusals],
    identity: telegramIdentity(verifiedPhone !== null),
  });
  return { ...effects, kind: 'message', inbound, verifiedPhone, chatId: chat.id, locale: locale ?? 'zh-Hans', notice };
}

/**
 * Telegram authenticates the user id, so a contact the user shared of themselves proves them for
 * this and every later message (remembered on the identity); until then the user is anonymous and
 * can prove themselves by sharing their contact.
 */
function telegramIdentity(sharedOwnContact: boolean): SenderIdentityInput {
  return sharedOwnContact
    ? { level: 'proven', basis: 'shared_contact', remember: true }
    : { level: 'anonymous', basis: null, remember: true };
}

function fromCallbackQuery(
  query: TelegramCallbackQuery,
  effects: Effects,
  ignore: (reason: IgnoreReason, more?: Partial<Effects>) => ParsedUpdate,
  words: ParseWords,
): ParsedUpdate {
  const answered = { callbackQueryId: query.id };
  const chat = query.message?.chat;
  if (chat && chat.type !== 'private') return ignore('not_private_chat', answered);
  if (query.from.is_bot) return ignore('from_bot', answered);
  const data = query.data;
  if (!data || Buffer.byteLength(data) > 64) return ignore('unsupported_content', answered);
  // The pressed button's label is what the consumer "said"; the data is the quick reply id.
  const label = query.message?.reply_markup?.inline_keyboard.flat().find((b) => b.callback_data === data)?.text ?? data;
  const locale = localeOf(query.from);
  const command = data === MENU_COMMAND_DATA;
  const inbound = InboundMessage.parse({
    channel: 'telegram',
    externalMessageId: `update:${effects.updateId}`,
    sender: { externalId: String(query.from.id), displayName: displayName(query.from) },
    text: command ? words.menuCommand[locale ?? 'zh-Hans'] : label,
    choice: command ? null : data,
    locale,
    identity: telegramIdentity(false),
  });
  return { ...effects, ...answered, kind: 'message', inbound, verifiedPhone: null, chatId: chat?.id ?? query.from.id, locale: locale ?? 'zh-Hans' };
}
