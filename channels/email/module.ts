import type { ChannelModule } from '../../src/core/channel-module.js';
import { EmailAdapter, type EmailAdapterOptions } from './index.js';
import { EMAIL_INBOUND_PATH, emailRoutes } from './routes.js';

export interface EmailChannelOptions extends EmailAdapterOptions {
  /** EMAIL_WEBHOOK_SECRET; unset = the webhook answers 404. */
  webhookSecret: string | undefined;
}

/** The email channel: the SMTP listener and sender, and the signed raw-MIME webhook under /api/email. */
export function createEmailChannel(options: EmailChannelOptions): ChannelModule & { adapter: EmailAdapter } {
  const adapter = new EmailAdapter(options);
  return {
    name: 'email',
    adapter,
    routes: [{ path: '/api/email', app: emailRoutes({ secret: options.webhookSecret, ingest: (raw) => adapter.ingest(raw) }) }],
    rawBodyPaths: [EMAIL_INBOUND_PATH],
    start: () => adapter.start(),
    stop: () => adapter.stop(),
  };
}
