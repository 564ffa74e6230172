import type { InboundMessageInput } from '../core/message.js';

/**
 * PostgreSQL text cannot hold U+0000, so a NUL byte anywhere in a message (Telegram text or
 * names, an email body or subject) would fail the insert and make the channel redeliver forever.
 * NUL carries no meaning in any of them: it is dropped from every string before storing.
 * A lone UTF-16 surrogate (half of an emoji, cut by a client) has no UTF-8 form either: it becomes
 * U+FFFD here, as the driver would write it, so that JSON (intake's shared statement) carries it too.
 */
export function storableStrings(input: InboundMessageInput): InboundMessageInput {
  return strip(input);
}

const LONE_SURROGATE = /\p{Surrogate}/u;
const LONE_SURROGATES = /\p{Surrogate}/gu;

function strip<T>(value: T): T {
  if (typeof value === 'string') {
    const noNul = value.includes('\u0000') ? value.replaceAll('\u0000', '') : value;
    return (LONE_SURROGATE.test(noNul) ? noNul.replace(LONE_SURROGATES, '\ufffd') : noNul) as T;
  }
  if (Array.isArray(value)) return value.map(strip) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strip(v)])) as T;
  }
  return value;
}
