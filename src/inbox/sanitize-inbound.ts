import type { InboundMessageInput } from '../core/message.js';

/**
 * PostgreSQL text cannot hold U+0000, so a NUL byte anywhere in a message (Telegram text or
 * names, an email body or subject) would fail the insert and make the channel redeliver forever.
 * NUL carries no meaning in any of them: it is dropped from every string before storing.
 */
export function withoutNulBytes(input: InboundMessageInput): InboundMessageInput {
  return strip(input);
}

function strip<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replaceAll('\u0000', '') : value) as T;
  if (Array.isArray(value)) return value.map(strip) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strip(v)])) as T;
  }
  return value;
}
