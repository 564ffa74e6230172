import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../../src/core/errors.js';
import { type IngestResult, MAX_EMAIL_BYTES, PoisonMail, verifyEmailWebhook } from './index.js';

export interface EmailRouteDeps {
  /** EMAIL_WEBHOOK_SECRET; unset = the webhook answers 404. */
  secret: string | undefined;
  /** Parses and stores one raw email; resolves once it is stored. */
  ingest(raw: Buffer): Promise<IngestResult>;
  maxBytes?: number;
}

/** The path under /api that takes raw MIME; it has its own body limit instead of the JSON API's. */
export const EMAIL_INBOUND_PATH = '/api/email/inbound';

const ACCEPTED_TYPES = /^(?:message\/rfc822|text\/plain|application\/octet-stream)\b/i;

/** `POST /api/email/inbound`: raw MIME signed with `X-Kefu-Signature: sha256=<hex HMAC>` → `202 {messageId, duplicate}`. */
export function emailRoutes(deps: EmailRouteDeps): Hono {
  const app = new Hono();
  const maxBytes = deps.maxBytes ?? MAX_EMAIL_BYTES;
  app.post(
    '/inbound',
    bodyLimit({
      maxSize: maxBytes,
      // The app maps the error to the JSON error body (a channel does not shape responses itself).
      onError: () => {
        throw new AppError('payload_too_large', `Email is larger than ${maxBytes} bytes`);
      },
    }),
    async (c) => {
      if (!deps.secret) throw new AppError('not_found', 'The email webhook is not enabled (EMAIL_WEBHOOK_SECRET is not set)');
      const type = c.req.header('content-type') ?? '';
      if (!ACCEPTED_TYPES.test(type)) throw new AppError('bad_request', 'Send the raw email as message/rfc822 or text/plain');
      const raw = Buffer.from(await c.req.arrayBuffer());
      if (!verifyEmailWebhook(raw, c.req.header('x-kefu-signature'), deps.secret)) {
        throw new AppError('unauthorized', 'Missing or wrong X-Kefu-Signature (sha256=<hex HMAC-SHA256 of the body>)');
      }
      if (raw.length === 0) throw new AppError('bad_request', 'The email is empty');
      let result: IngestResult;
      try {
        result = await deps.ingest(raw);
      } catch (err) {
        // Kept as a dead letter; the sender must not retry it.
        if (err instanceof PoisonMail) throw new AppError('validation_failed', err.message);
        throw err;
      }
      return c.json({ messageId: result.messageId, duplicate: result.duplicate }, 202);
    },
  );
  return app;
}
