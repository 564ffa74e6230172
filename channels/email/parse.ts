import { createHash } from 'node:crypto';
import { convert } from 'html-to-text';
import { type AddressObject, type Attachment as MailAttachment, type ParsedMail, simpleParser } from 'mailparser';
import { maskSecrets } from '../../src/core/mask.js';
import type { Attachment, InboundMessageInput } from '../../src/core/message.js';
import { MAX_TEXT_LENGTH } from '../../src/core/message.js';
import type { SenderIdentityInput } from '../../src/core/identity.js';
import { dmarcPasses } from './auth-results.js';
import { type AutomatedMail, detectAutomated } from './loop-guard.js';
import { decodeUtf7Header } from './encoded-words.js';
import { stripQuotes } from './strip-quotes.js';
import { bareAddress, findReplyToken, normalizeSubject, parseMessageIds, rawMessageId, splitAddress } from './threading.js';

/** Everything kefu reads from one email, decoded. */
export interface ParsedEmail {
  /** Message-ID without angle brackets, or `sha256:<hex>` of the raw message when it has none. */
  messageId: string;
  from: { address: string; name: string | null };
  to: string[];
  cc: string[];
  deliveredTo: string[];
  /** Decoded subject (RFC 2047), as sent. */
  subject: string;
  inReplyTo: string[];
  references: string[];
  /** The whole text body (HTML-only mail converted to text), quoted history included. */
  fullText: string;
  /** The new text with quoted history removed, signature kept. */
  reply: string;
  /** `reply` without a recognisable signature. */
  text: string;
  attachments: Attachment[];
  /** Each attachment's decoded bytes, by the same index. */
  contents: Uint8Array[];
  automated: AutomatedMail;
  date: Date | null;
  /** `Authentication-Results` header values, topmost (added last, by the nearest server) first. */
  authenticationResults: string[];
}

/** Options for turning raw MIME into a ParsedEmail. */
export interface ParseOptions {
  /** Our sender address (EMAIL_FROM): reply tokens are only read from plus-addresses of it. */
  ourAddress?: string | null;
  /** The SMTP envelope sender, used when the From header is empty. */
  envelopeFrom?: string | null;
  /** SMTP envelope recipients, searched for the reply token like Delivered-To. */
  envelopeTo?: string[];
  /** authserv-ids of receiving servers whose Authentication-Results we trust (EMAIL_TRUSTED_AUTHSERV_ID). */
  trustedAuthservIds?: readonly string[];
}

/** Parses raw MIME (any charset mailparser/iconv-lite know, RFC 2047 headers) into a ParsedEmail. */
export async function parseEmail(raw: Buffer, options: ParseOptions = {}): Promise<ParsedEmail> {
  const mail = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  const fromValue = mail.from?.value.find((a) => a.address) ?? mail.from?.value[0];
  const rawFrom = headerValues(mail, 'from')[0]?.replace(/\s+/g, ' ').trim() ?? '';
  // An address without a domain (`From: no_host`) is kept as written: it is who the mail says it is from.
  // An empty sender (`From: "" (Mail Delivery System)`, `<>`) has no address to keep.
  const fromAddress = (fromValue?.address ?? '').trim().toLowerCase() || bareLocalPart(rawFrom);
  const envelopeFrom = options.envelopeFrom?.trim().toLowerCase() ?? '';
  const fullText = bodyText(mail);
  const stripped = stripQuotes(fullText);
  // mailparser leaves RFC 2047 words in UTF-7 (Outlook 2000) undecoded.
  const subject = decodeUtf7Header(headerValues(mail, 'subject')[0]) ?? mail.subject ?? '';
  const fromName = decodeUtf7Header(rawFrom.replace(/<[^<>]*>\s*$/, '').trim()) ?? fromValue?.name;
  return {
    messageId: parseMessageIds(mail.messageId)[0] ?? rawMessageId(raw),
    from: {
      address: fromAddress || envelopeFrom,
      name: fromName?.trim() || null,
    },
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    deliveredTo: headerValues(mail, 'delivered-to').map(bareAddress),
    subject,
    inReplyTo: parseMessageIds(mail.inReplyTo),
    references: parseMessageIds(mail.references),
    fullText,
    reply: stripped.reply,
    text: stripped.text,
    attachments: mail.attachments.map(toAttachment),
    contents: mail.attachments.map((a) => new Uint8Array(a.content)),
    automated: detectAutomated({
      headers: (name) => headerValues(mail, name),
      contentType: contentTypeOf(mail),
      fromAddress: fromAddress || envelopeFrom,
      subject,
      raw,
    }),
    date: mail.date ?? null,
    authenticationResults: headerValues(mail, 'authentication-results'),
  };
}

/** The core's view of a parsed email. */
export function toInbound(email: ParsedEmail, options: ParseOptions = {}): InboundMessageInput {
  const recipients = [...email.to, ...email.cc, ...email.deliveredTo, ...(options.envelopeTo ?? [])];
  const text = email.text.length > MAX_TEXT_LENGTH ? email.text.slice(0, MAX_TEXT_LENGTH) : email.text;
  return {
    channel: 'email',
    externalMessageId: email.messageId.slice(0, 512),
    sender: {
      externalId: (email.from.address || 'mailer-daemon').slice(0, 320),
      displayName: email.from.name?.slice(0, 200) ?? null,
      email: email.from.address.includes('@') ? email.from.address.slice(0, 320) : null,
    },
    text,
    attachments: email.attachments,
    thread: {
      conversationToken: findReplyToken(recipients, options.ourAddress ?? null),
      inReplyTo: [...new Set([...email.inReplyTo, ...email.references.slice().reverse()])].slice(0, 50),
      // Masked like message texts: the subject is stored on the conversation for threading.
      subject: maskSecrets(normalizeSubject(email.subject)) || null,
      messageSubject: maskSecrets(email.subject.slice(0, 1000)) || null,
    },
    // Machine mail, and mail from our own address coming back, is recorded but never answered: no loops.
    silent: email.automated.autoReply || email.automated.bounce || email.automated.dsn || isOurs(email.from.address, options.ourAddress),
    original: email.fullText,
    receivedAt: null,
    identity: senderIdentity(email, options),
  };
}

/**
 * What an email proves about its sender. The From header alone proves nothing (anyone can write
 * it): such mail is `claimed`. It is `proven` when a trusted receiving server says DMARC passed
 * for the From domain, or when it comes back through the conversation's reply address, which
 * kefu sent only to that mailbox (checked by the core against the conversation's own address).
 */
function senderIdentity(email: ParsedEmail, options: ParseOptions): SenderIdentityInput {
  const address = email.from.address;
  if (dmarcPasses(email.authenticationResults, options.trustedAuthservIds ?? [], address)) {
    return { level: 'proven', basis: 'dmarc', replyTokenProves: true };
  }
  return { level: address.includes('@') ? 'claimed' : 'anonymous', basis: 'from_header', replyTokenProves: true };
}

function isOurs(address: string, ourAddress: string | null | undefined): boolean {
  if (!ourAddress || !address) return false;
  const ours = splitAddress(ourAddress);
  const them = splitAddress(address);
  return them.domain === ours.domain && (them.local.split('+')[0] ?? '').toLowerCase() === (ours.local.split('+')[0] ?? '').toLowerCase();
}

function bodyText(mail: ParsedMail): string {
  const text = (mail.text ?? '').trim();
  if (text !== '') return mail.text ?? '';
  if (typeof mail.html === 'string' && mail.html.trim() !== '') return htmlToText(mail.html);
  return '';
}

/** HTML to plain text; markup too deeply nested for the converter (50,000 nested divs) is stripped instead. */
function htmlToText(html: string): string {
  try {
    return convert(html, {
      wordwrap: false,
      selectors: [
        { selector: 'a', options: { ignoreHref: true } },
        { selector: 'img', format: 'skip' },
        // Headings stay as written: shouting an older customer's words back helps nobody.
        ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
        { selector: 'table', options: { uppercaseHeaderCells: false } },
      ],
    });
  } catch {
    return html
      .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
      .replace(/<[^>]*>/g, ' ')
      .replace(/[ \t]+/g, ' ')
      .trim();
  }
}

function toAttachment(a: MailAttachment, index: number): Attachment {
  const contentType = a.contentType || null;
  const kind = contentType?.startsWith('image/')
    ? 'image'
    : contentType?.startsWith('audio/')
      ? 'audio'
      : contentType?.startsWith('video/')
        ? 'video'
        : contentType?.startsWith('application/') || contentType?.startsWith('text/')
          ? 'document'
          : 'other';
  const cid = a.contentId ? a.contentId.replace(/^<|>$/g, '') : null;
  // Images shown in the body (inline, referenced by content-id) are not attachments the customer chose to send.
  const inline = kind === 'image' && a.contentDisposition === 'inline' && (cid !== null || a.related === true);
  return {
    kind,
    filename: a.filename ?? null,
    contentType,
    size: a.size ?? a.content?.length ?? null,
    ref: cid ?? `part-${index + 1}-${(a.checksum || createHash('md5').update(a.content ?? '').digest('hex')).slice(0, 16)}`,
    inline,
  };
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.flatMap((o) => o.value).flatMap((a) => (a.address ? [a.address] : []));
}

function headerValues(mail: ParsedMail, name: string): string[] {
  return mail.headerLines
    .filter((h) => h.key === name)
    .map((h) => h.line.slice(h.line.indexOf(':') + 1).trim());
}

function contentTypeOf(mail: ParsedMail): string {
  const line = mail.headerLines.find((h) => h.key === 'content-type')?.line ?? '';
  return line.slice(line.indexOf(':') + 1).replace(/\s+/g, ' ').trim().toLowerCase();
}

/** A From header that is just an address without a domain (`no_host`, `<no_host>`), as written; '' otherwise. */
function bareLocalPart(rawFrom: string): string {
  const noComments = rawFrom.replace(/\([^()]*\)/g, ' ').trim();
  const candidate = (/<([^<>]*)>\s*$/.exec(noComments)?.[1] ?? noComments).trim();
  return /^[^\s"<>()@,;:\\[\]]+$/.test(candidate) ? candidate.slice(0, 320) : '';
}
