import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ChannelAdapter, SendResult } from '../../src/core/channel.js';
import type { InboundMessageInput, OutboundMessage } from '../../src/core/message.js';
import type { MessageFile, StoreMessageFiles } from '../../src/core/channel-module.js';
import { detectLocale } from '../../src/core/locale.js';
import type { ChannelNotice } from '../../src/core/message.js';
import type { AcceptedFile, AcceptFile } from '../../src/core/sniff.js';
import { isTransientError } from '../../src/core/transient.js';
import { loadCatalog } from '../../src/i18n/catalog.js';
import { type ParsedEmail, parseEmail, toInbound } from './parse.js';
import { EmailSender, type EmailWording, loadEmailWording } from './send.js';
import { SmtpListener } from './smtp-listener.js';

/** The largest email we take in (SMTP SIZE and the webhook's body limit). */
export const MAX_EMAIL_BYTES = 10 * 1024 * 1024;

/** Headers bigger than this, or more MIME parts than MAX_EMAIL_PARTS, are refused before parsing. */
export const MAX_EMAIL_HEADER_BYTES = 256 * 1024;
export const MAX_EMAIL_PARTS = 500;

/** What email intake needs from the core: store a message, mark addresses that bounced. */
export interface EmailIntake {
  receive(inbound: InboundMessageInput): Promise<{ messageId: string; duplicate: boolean }>;
  markUnreachable(addresses: string[], reason: string): Promise<void>;
  /** Keeps a mail that can never be stored, for operators; throws when even that fails. */
  deadLetter?(raw: Buffer, reason: string): Promise<void>;
  /**
   * Attachments are kept like web chat uploads: judged by content and size (`accept`), stored
   * with their message (`storeFiles`); without these they stay metadata only.
   */
  files?: { accept: AcceptFile; store: StoreMessageFiles; maxBytes: number };
}

/**
 * A mail that can never be stored (too large a header, too many parts, unparseable, refused by
 * the database). It is answered with a permanent failure (SMTP 554, HTTP 422): a temporary one
 * would make the sending server retry it for days.
 */
export class PoisonMail extends Error {
  readonly permanent = true;
  constructor(readonly reason: string) {
    super(`The message cannot be accepted: ${reason}`);
    this.name = 'PoisonMail';
  }
}

/** Why a raw mail is refused before parsing, or null. */
export function mailLimitProblem(raw: Buffer): string | null {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const ends = [crlf, lf].filter((i) => i >= 0);
  const headerBytes = ends.length > 0 ? Math.min(...ends) : raw.length;
  if (headerBytes > MAX_EMAIL_HEADER_BYTES) return `header larger than ${MAX_EMAIL_HEADER_BYTES} bytes`;
  let parts = 0;
  const contentType = /^content-type:/gim;
  const text = raw.toString('latin1');
  while (contentType.exec(text) !== null) {
    parts += 1;
    if (parts > MAX_EMAIL_PARTS) return `more than ${MAX_EMAIL_PARTS} MIME parts`;
  }
  return null;
}

/** The logging the adapter does (pino-compatible). */
export interface EmailLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface EmailAdapterOptions {
  /** EMAIL_FROM; our Message-IDs and reply addresses use its domain. */
  from: string | null;
  /** SMTP_URL for outbound; unset = we cannot send (deliveries are retried until it is set). */
  smtpUrl: string | null;
  /** EMAIL_TRUSTED_AUTHSERV_ID: receiving servers whose DMARC verdict in Authentication-Results we trust. */
  trustedAuthservIds?: readonly string[];
  /** SMTP_LISTEN_PORT; unset = no listener. */
  listenPort: number | null;
  listenHost?: string;
  intake: EmailIntake;
  log: EmailLog;
  wording?: EmailWording;
  maxBytes?: number;
}

/** Result of taking in one raw email. */
export interface IngestResult {
  messageId: string;
  duplicate: boolean;
  silent: boolean;
  bounced: string[];
}

/** The email channel: parse raw MIME (SMTP listener or webhook), send replies over SMTP. */
export class EmailAdapter implements ChannelAdapter {
  readonly kind = 'email' as const;
  readonly capabilities = { buttons: false, maxTextLength: 100_000, formatting: 'html' as const, proofRemedy: 'reply' as const };
  private readonly sender: EmailSender | null;
  private readonly listener: SmtpListener | null;

  constructor(private readonly options: EmailAdapterOptions) {
    const wording = options.wording ?? loadEmailWording();
    this.sender =
      options.smtpUrl && options.from ? new EmailSender({ smtpUrl: options.smtpUrl, from: options.from, wording }) : null;
    this.listener =
      options.listenPort === null
        ? null
        : new SmtpListener({
            port: options.listenPort,
            ...(options.listenHost ? { host: options.listenHost } : {}),
            maxBytes: options.maxBytes ?? MAX_EMAIL_BYTES,
            onMessage: async (raw, envelope) => {
              await this.ingest(raw, { envelopeFrom: envelope.mailFrom, envelopeTo: envelope.rcptTo });
            },
            onError: (err) => options.log.warn({ err }, 'email.smtp_failed'),
          });
  }

  /** The port the SMTP listener is bound to, once started. */
  get smtpPort(): number | null {
    return this.listener?.port ?? null;
  }

  /** Parses and stores one raw email; resolves only once it is durably stored. */
  async ingest(raw: Buffer, envelope: { envelopeFrom?: string | null; envelopeTo?: string[] } = {}): Promise<IngestResult> {
    const options = {
      ourAddress: this.options.from,
      envelopeFrom: envelope.envelopeFrom ?? null,
      envelopeTo: envelope.envelopeTo ?? [],
      trustedAuthservIds: this.options.trustedAuthservIds ?? [],
    };
    const problem = mailLimitProblem(raw);
    if (problem) return this.refuse(raw, problem);
    let email: ParsedEmail;
    let inbound: InboundMessageInput;
    try {
      email = await parseEmail(raw, options);
      inbound = toInbound(email, options);
    } catch (err) {
      return this.refuse(raw, 'unparseable', err);
    }
    const files = await this.judgeFiles(email, inbound);
    let stored: { messageId: string; duplicate: boolean };
    try {
      stored = await this.options.intake.receive(inbound);
    } catch (err) {
      // The database being away is worth a retry by the sender; anything else never will be.
      if (isTransientError(err)) throw err;
      return this.refuse(raw, 'cannot be stored', err);
    }
    // Stored before the 250 too; a failure here is retried by the sender (the message is then a duplicate, the files idempotent).
    if (files.length > 0) await this.options.intake.files?.store(stored.messageId, files);
    const bounced = email.automated.bounce ? email.automated.failedRecipients : [];
    if (bounced.length > 0 && !stored.duplicate) {
      await this.options.intake.markUnreachable(bounced, `bounced: ${email.automated.dsnStatus ?? 'failed'}`);
    }
    this.options.log.info(
      {
        messageId: stored.messageId,
        duplicate: stored.duplicate,
        autoReply: email.automated.autoReply,
        bounce: email.automated.bounce,
        attachments: email.attachments.length,
      },
      'email.received',
    );
    return { messageId: stored.messageId, duplicate: stored.duplicate, silent: inbound.silent ?? false, bounced };
  }

  /**
   * Judges each attachment by its bytes: what is kept is returned, what is not is marked on the
   * inbound's attachment (for the agent) and, for files the sender chose to attach (not inline
   * images), answered with a polite note in the conversation's language. Auto-replies get no note.
   */
  private async judgeFiles(email: ParsedEmail, inbound: InboundMessageInput): Promise<MessageFile[]> {
    const files = this.options.intake.files;
    if (!files) return [];
    const kept: MessageFile[] = [];
    const notices: ChannelNotice[] = [];
    const attachments = (inbound.attachments ?? []).map((a) => ({ ...a }));
    for (const [index, attachment] of attachments.entries()) {
      const bytes = email.contents[index];
      if (!bytes) continue;
      const accepted = await files.accept(bytes);
      if (accepted.ok) {
        kept.push({ index, file: accepted });
        continue;
      }
      attachment.refused = accepted.reason;
      if (!attachment.inline && !inbound.silent) notices.push(fileRefusedNotice(accepted.reason, attachment.filename ?? null, inbound, files.maxBytes));
    }
    inbound.attachments = attachments;
    if (notices.length > 0) inbound.notices = [...(inbound.notices ?? []), ...notices];
    return kept;
  }

  private async refuse(raw: Buffer, reason: string, err?: unknown): Promise<never> {
    await this.options.intake.deadLetter?.(raw, reason);
    this.options.log.warn({ reason, bytes: raw.length, ...(err === undefined ? {} : { err }) }, 'email.dead_lettered');
    throw new PoisonMail(reason);
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    if (!this.sender) return { ok: false, retryable: true, error: 'outbound email is not configured (SMTP_URL and EMAIL_FROM)' };
    return this.sender.send(message);
  }

  async start(): Promise<void> {
    await this.listener?.start();
    if (this.listener) this.options.log.info({ port: this.listener.port }, 'email.smtp_listening');
  }

  async stop(): Promise<void> {
    await this.listener?.stop();
    this.sender?.close();
  }
}

/** The `X-Kefu-Signature` value for a raw body: `sha256=<hex HMAC-SHA256>`. */
export function signEmailWebhook(body: Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time check of a webhook signature header. */
export function verifyEmailWebhook(body: Uint8Array, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!m?.[1]) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(m[1], 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The polite note about an attachment we did not keep (locales/<l>/attachments.yaml), in the mail's language. */
function fileRefusedNotice(
  reason: Extract<AcceptedFile, { ok: false }>['reason'],
  filename: string | null,
  inbound: InboundMessageInput,
  maxBytes: number,
): ChannelNotice {
  const words = loadCatalog('attachments');
  const locale = inbound.locale ?? detectLocale(inbound.text ?? '') ?? 'zh-Hans';
  const name = filename ?? words.t(locale, 'unnamed');
  const mb = String(Number((maxBytes / 1048576).toPrecision(2)));
  return { text: words.t(locale, reason === 'too_big' ? 'notice.tooBig' : 'notice.type', { name, mb }), quickReplies: [] };
}
