import { createHash } from 'node:crypto';

/** Reply/forward prefixes mail clients put before a subject, in the languages our customers use. */
const SUBJECT_PREFIX = /^\s*(?:(?:re|fwd?|aw|wg|sv|vs|tr)(?:\s*\[\d+\])?\s*[:：]|回复\s*[:：]|回覆\s*[:：]|答复\s*[:：]|答覆\s*[:：]|转发\s*[:：]|轉寄\s*[:：]|转寄\s*[:：]|\[[^\]]{0,40}\]\s*)\s*/iu;

/** The subject without reply/forward prefixes and extra spaces, for matching a thread by subject. */
export function normalizeSubject(subject: string | null | undefined): string {
  let s = (subject ?? '').replace(/\s+/g, ' ').trim();
  for (let i = 0; i < 10; i += 1) {
    const next = s.replace(SUBJECT_PREFIX, '');
    if (next === s) break;
    s = next;
  }
  return s.trim();
}

/** Message-IDs without angle brackets, in order, without duplicates (In-Reply-To, References). */
export function parseMessageIds(value: string | string[] | null | undefined): string[] {
  const raw = Array.isArray(value) ? value.join(' ') : (value ?? '');
  const found = raw.match(/<[^<>\s]+>/g) ?? raw.split(/[\s,]+/).filter((v) => v.includes('@'));
  const ids = found.map((v) => v.replace(/^<|>$/g, '').trim()).filter((v) => v.length > 0 && v.length <= 500);
  return [...new Set(ids)];
}

/** The bare address of "Name <addr@x>" or "addr@x" (case kept: reply tokens are case-sensitive). */
export function bareAddress(value: string): string {
  const m = /<([^<>]+)>/.exec(value);
  return (m?.[1] ?? value).trim();
}

/** Local part (case kept) and lower-cased domain of an address (possibly "Name <addr>"). */
export function splitAddress(address: string): { local: string; domain: string } {
  const bare = bareAddress(address);
  const at = bare.lastIndexOf('@');
  return at < 0 ? { local: bare, domain: 'localhost' } : { local: bare.slice(0, at), domain: bare.slice(at + 1).toLowerCase() };
}

/** The Message-ID we give an outbound message (without angle brackets). */
export function outboundMessageId(messageId: string, fromAddress: string): string {
  return `kefu.${messageId}@${splitAddress(fromAddress).domain}`;
}

/** The reply address that carries a conversation's token: `support+{token}@domain`. */
export function replyAddress(fromAddress: string, token: string): string {
  const { local, domain } = splitAddress(fromAddress);
  const base = (local.split('+')[0] ?? local).toLowerCase();
  return `${base}+${token}@${domain}`;
}

/**
 * The conversation token from the first plus-address among the recipients (To, Cc, Delivered-To).
 * With our address known, only addresses at our domain with our local part count.
 */
export function findReplyToken(recipients: string[], fromAddress: string | null): string | null {
  const ours = fromAddress ? splitAddress(fromAddress) : null;
  const oursBase = ours ? (ours.local.split('+')[0] ?? ours.local) : null;
  for (const recipient of recipients) {
    const { local, domain } = splitAddress(recipient);
    const plus = local.indexOf('+');
    if (plus < 0) continue;
    if (ours && (domain !== ours.domain || local.slice(0, plus).toLowerCase() !== oursBase?.toLowerCase())) continue;
    const token = local.slice(plus + 1);
    if (/^[\w-]{6,64}$/.test(token)) return token;
  }
  return null;
}

/** A stable id for a message without a Message-ID header: the hash of its raw bytes. */
export function rawMessageId(raw: Buffer): string {
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}
