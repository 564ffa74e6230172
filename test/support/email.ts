import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * A local SMTP server standing in for the outbound relay: records every mail we send and can
 * refuse recipients with a given SMTP code.
 */
export async function startSink(refuse: Record<string, number> = {}) {
  const received: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const code = refuse[address.address];
      callback(code ? Object.assign(new Error(`refused ${address.address}`), { responseCode: code }) : undefined);
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          received.push(mail);
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { received, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A plain-text mail as a consumer's client would send it. */
export function rawMail(o: { from: string; to?: string; subject: string; id: string; text: string; headers?: string[] }): string {
  return [
    `From: ${o.from}`,
    `To: ${o.to ?? 'support@kefu.example'}`,
    `Subject: ${o.subject}`,
    `Message-ID: <${o.id}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    ...(o.headers ?? []),
    '',
    o.text,
  ].join('\r\n');
}
