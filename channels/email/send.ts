import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTransport, type Transporter } from 'nodemailer';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { SendResult } from '../../src/core/channel.js';
import type { Locale, OutboundMessage } from '../../src/core/message.js';
import { outboundMessageId, replyAddress } from './threading.js';

const PerLocale = z.object({ 'zh-Hans': z.string(), 'zh-Hant': z.string(), en: z.string() });

/** prompts/email.yaml: the wording of our outbound mail. */
export const EmailWording = z.object({
  subject: PerLocale,
  reply_with: PerLocale,
  separator: PerLocale,
  last_separator: PerLocale,
  footer: PerLocale,
});
export type EmailWording = z.infer<typeof EmailWording>;

export const EMAIL_WORDING_FILE = join(import.meta.dirname, '../../prompts/email.yaml');

/** Loads and validates the outbound wording file. */
export function loadEmailWording(path: string = EMAIL_WORDING_FILE): EmailWording {
  return EmailWording.parse(parseYaml(readFileSync(path, 'utf8')));
}

/** What the conversation remembers for threading (conversations.thread, written by intake and by us). */
export const EmailThread = z.object({
  subject: z.string().nullable().optional(),
  lastInboundId: z.string().nullable().optional(),
  references: z.array(z.string()).optional(),
  replyToken: z.string().optional(),
});

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  replyTo: string | null;
}

/** Renders an outbound message as a threaded reply: `Re:` subject, In-Reply-To/References, numbered options. */
export function renderEmail(message: OutboundMessage, from: string, wording: EmailWording): RenderedEmail {
  const thread = EmailThread.safeParse(message.thread);
  const t = thread.success ? thread.data : {};
  const locale: Locale = message.locale;
  const subject = t.subject ? `Re: ${t.subject}` : wording.subject[locale];
  const options = message.quickReplies.map((q, i) => `${i + 1}. ${q.label}`);
  const prompt =
    options.length > 0 ? wording.reply_with[locale].replace('{numbers}', joinNumbers(options.length, wording, locale)) : null;
  const footer = wording.footer[locale];
  const text = [message.text, options.length > 0 ? options.join('\n') : null, prompt, footer].filter((p) => p !== null).join('\n\n');
  const html = [
    ...message.text.split(/\n{2,}/).map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`),
    options.length > 0
      ? `<ol>${message.quickReplies.map((q) => `<li>${escapeHtml(q.label)}</li>`).join('')}</ol><p>${escapeHtml(prompt ?? '')}</p>`
      : '',
    `<p style="color:#666">${escapeHtml(footer)}</p>`,
  ].join('\n');
  const inReplyTo = t.lastInboundId ?? null;
  const references = [...new Set([...(t.references ?? []), ...(inReplyTo ? [inReplyTo] : [])])].slice(-20);
  return {
    subject,
    text,
    html: `<!doctype html><html><body style="font-size:18px;line-height:1.6">${html}</body></html>`,
    messageId: outboundMessageId(message.messageId, from),
    inReplyTo,
    references,
    replyTo: t.replyToken ? replyAddress(from, t.replyToken) : null,
  };
}

export interface EmailSenderOptions {
  smtpUrl: string;
  /** EMAIL_FROM, e.g. `kefu 客服 <support@example.com>`. */
  from: string;
  wording: EmailWording;
}

/** Sends outbound messages over SMTP with nodemailer; maps SMTP replies onto retryable or permanent failures. */
export class EmailSender {
  private readonly transport: Transporter;

  constructor(private readonly options: EmailSenderOptions) {
    this.transport = createTransport(options.smtpUrl);
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    const mail = renderEmail(message, this.options.from, this.options.wording);
    try {
      await this.transport.sendMail({
        from: this.options.from,
        to: message.recipient.displayName
          ? { name: message.recipient.displayName, address: message.recipient.externalId }
          : message.recipient.externalId,
        ...(mail.replyTo ? { replyTo: mail.replyTo } : {}),
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: `<${mail.messageId}>`,
        ...(mail.inReplyTo ? { inReplyTo: `<${mail.inReplyTo}>` } : {}),
        ...(mail.references.length > 0 ? { references: mail.references.map((r) => `<${r}>`) } : {}),
        headers: { 'Auto-Submitted': 'auto-replied' },
      });
      return { ok: true, externalId: mail.messageId, thread: { lastOutboundId: mail.messageId } };
    } catch (err) {
      return smtpFailure(err);
    }
  }

  close(): void {
    this.transport.close();
  }
}

const SmtpError = z.object({ responseCode: z.number().optional(), code: z.string().optional(), message: z.string() });

/** 4xx and connection problems are retried; 5xx are not; 550/551/553 "no such user" make the address unreachable. */
export function smtpFailure(err: unknown): SendResult {
  const parsed = SmtpError.safeParse(err);
  const info = parsed.success ? parsed.data : { message: String(err) };
  const code = info.responseCode;
  const error = info.message.slice(0, 500);
  if (code !== undefined && code >= 500) {
    const unknownUser = [550, 551, 553].includes(code) || /5\.1\.[0-3]/.test(error);
    return { ok: false, retryable: false, error, ...(unknownUser ? { unreachable: true } : {}) };
  }
  return { ok: false, retryable: true, error };
}

function joinNumbers(count: number, wording: EmailWording, locale: Locale): string {
  const nums = Array.from({ length: count }, (_, i) => String(i + 1));
  if (nums.length <= 1) return nums.join('');
  return `${nums.slice(0, -1).join(wording.separator[locale])}${wording.last_separator[locale]}${nums.at(-1)}`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
