import type { QuickReply } from '../../src/core/message.js';

/** Telegram's limit for one message's text, in UTF-16 code units (what JavaScript's length counts). */
export const TELEGRAM_MAX_TEXT = 4096;
/** Telegram's limit for an inline button's callback_data, in bytes. */
export const MAX_CALLBACK_BYTES = 64;

/**
 * Splits a text into parts of at most `max` UTF-16 units, preferring paragraph, line, sentence
 * and word boundaries, and never cutting a surrogate pair in half.
 */
export function splitText(text: string, max: number = TELEGRAM_MAX_TEXT): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const window = rest.slice(0, max);
    let cut = -1;
    for (const boundary of ['\n\n', '\n', '。', '. ', '！', '？', '! ', '? ', ' ']) {
      const at = window.lastIndexOf(boundary);
      // A boundary in the first half would leave tiny parts; fall through to a harder cut.
      if (at >= max / 2) {
        cut = at + boundary.length;
        break;
      }
    }
    if (cut <= 0) {
      cut = max;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    }
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^\n+/, '');
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts.filter((p, i) => p.length > 0 || i === 0);
}

export interface InlineKeyboard {
  inline_keyboard: { text: string; callback_data: string }[][];
}

/**
 * Quick replies as an inline keyboard: one big button per row (easier for older consumers to hit),
 * callback_data = the quick reply id. Ids over Telegram's 64-byte limit cannot round-trip and are left out.
 */
export function inlineKeyboard(quickReplies: QuickReply[]): { keyboard: InlineKeyboard | null; dropped: string[] } {
  const fits = quickReplies.filter((q) => Buffer.byteLength(q.id) <= MAX_CALLBACK_BYTES);
  const dropped = quickReplies.filter((q) => !fits.includes(q)).map((q) => q.id);
  if (fits.length === 0) return { keyboard: null, dropped };
  return { keyboard: { inline_keyboard: fits.map((q) => [{ text: q.label, callback_data: q.id }]) }, dropped };
}

/** Reserved characters of Telegram's MarkdownV2 outside code entities. */
const MARKDOWN_V2_RESERVED = /[_*[\]()~`>#+\-=|{}.!\\]/g;

/** Escapes text for MarkdownV2 so it shows literally (kefu sends plain text; this is for formatted parts). */
export function escapeMarkdownV2(text: string): string {
  return text.replace(MARKDOWN_V2_RESERVED, (ch) => `\\${ch}`);
}
