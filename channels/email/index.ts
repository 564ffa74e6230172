import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ChannelAdapter, SendResult } from '../../src/core/channel.js';
import type { InboundMessageInput, OutboundMessage } from '../../src/core/message.js';
import { parseEmail, toInbound } from './parse.js';
import { EmailSender, type EmailWording, loadEmailWording } from './send.js';
import { SmtpListener } from './smtp-listener.js';

/** The largest email we take in (SMTP SIZE and the webhook's body limit). */
export const MAX_EMAIL_BYTES = 10 * 1024 * 1024;

/** What email intake needs from the core: store a message, mark addresses that bounced. */
export interface EmailIntake {
  receive(inbound: InboundMessageInput): Promise<{ messageId: string; duplicate: boolean }>;
  markUnreachable(addresses: string[], reason: string): Promise<void>;
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
    const email = await parseEmail(raw, options);
    const inbound = toInbound(email, options);
    const stored = await this.options.intake.receive(inbound);
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
