import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

/** What the listener knows about one delivered message besides its bytes. */
export interface SmtpEnvelope {
  mailFrom: string | null;
  rcptTo: string[];
  remoteAddress: string;
}

export interface SmtpListenerOptions {
  port: number;
  host?: string;
  /** Largest message accepted (SIZE); bigger ones get `552`. */
  maxBytes: number;
  /** Stores the message; the SMTP `250` is given only after it resolves. A throw answers `451` (try again later). */
  onMessage(raw: Buffer, envelope: SmtpEnvelope): Promise<void>;
  onError?(err: unknown): void;
  /** Recipients per message (default 50); more get `452`. */
  maxRecipients?: number;
  /** Simultaneous connections (default 50); more get `421`. */
  maxClients?: number;
  /** How long one DATA transfer may take (default 60 s); slower ones get `421` and are dropped. */
  dataTimeoutMs?: number;
}

/** Inbound SMTP: accepts mail for any recipient, stores it before acknowledging. */
export class SmtpListener {
  private server: SMTPServer | null = null;
  private boundPort: number | null = null;

  constructor(private readonly options: SmtpListenerOptions) {}

  /** The port actually listened on (useful with port 0). */
  get port(): number | null {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const { options } = this;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      size: options.maxBytes,
      logger: false,
      disableReverseLookup: true,
      banner: 'kefu',
      // Limits, so one client cannot hold the listener: connections, idle time, recipients.
      maxClients: options.maxClients ?? 50,
      socketTimeout: 30_000,
      onRcptTo: (_address, session, callback) => {
        if (session.envelope.rcptTo.length >= (options.maxRecipients ?? 50)) {
          callback(new SmtpReply(452, 'Too many recipients'));
          return;
        }
        callback();
      },
      onData: (stream, session, callback) => {
        this.receive(stream, session).then(
          () => callback(),
          (err: unknown) => callback(smtpError(err)),
        );
      },
    });
    server.on('error', (err) => options.onError?.(err));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.server.once('error', onError);
      server.listen(options.port, options.host ?? '0.0.0.0', () => {
        server.server.off('error', onError);
        resolve();
      });
    });
    const address = server.server.address();
    this.boundPort = typeof address === 'object' && address !== null ? (address satisfies AddressInfo).port : null;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> {
    const chunks: Buffer[] = [];
    const started = Date.now();
    const limit = this.options.dataTimeoutMs ?? 60_000;
    // A client trickling its message byte by byte would hold a connection for ever.
    let tooSlow = false;
    const timer = setTimeout(() => {
      tooSlow = true;
      stream.destroy();
    }, limit);
    try {
      for await (const chunk of stream) {
        chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
        if (Date.now() - started > limit) tooSlow = true;
        if (tooSlow) break;
      }
    } catch (err) {
      if (!tooSlow) throw err;
    } finally {
      clearTimeout(timer);
    }
    if (tooSlow) throw new SmtpReply(421, `DATA took longer than ${Math.round(limit / 1000)} s; closing`);
    if (stream.sizeExceeded) throw new SmtpReply(552, `Message exceeds the fixed maximum message size of ${this.options.maxBytes} bytes`);
    const envelope: SmtpEnvelope = {
      mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
      rcptTo: session.envelope.rcptTo.map((r) => r.address),
      remoteAddress: session.remoteAddress,
    };
    try {
      await this.options.onMessage(Buffer.concat(chunks), envelope);
    } catch (err) {
      // A mail that can never be stored gets a permanent refusal; retrying it would loop for days.
      if (err instanceof Error && 'permanent' in err && err.permanent === true) throw new SmtpReply(554, err.message);
      this.options.onError?.(err);
      throw new SmtpReply(451, 'Temporary failure storing the message, please try again later');
    }
  }
}

/** An SMTP reply code for smtp-server's callback. */
class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
  }
}

function smtpError(err: unknown): Error {
  return err instanceof SmtpReply ? err : new SmtpReply(451, 'Temporary failure, please try again later');
}
