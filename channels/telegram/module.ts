import type { ChannelLog, ChannelModule } from '../../src/core/channel-module.js';
import { createTelegramAdapter } from './index.js';
import { createTelegramIntake, type TelegramIntakeDeps, telegramRoutes } from './routes.js';

export interface TelegramChannelOptions extends Omit<TelegramIntakeDeps, 'telegram' | 'logger'> {
  token: string;
  webhookSecret: string | undefined;
  /** Updates arrive on the webhook route, or from start() when polling. */
  mode: 'webhook' | 'polling';
  log: ChannelLog;
  /** ATTACHMENT_MAX_BYTES: larger photos and documents are refused before any download. */
  maxFileBytes?: number;
}

/** The Telegram channel: the Bot API adapter sends; updates come in on the webhook or by long polling. */
export function createTelegramChannel(options: TelegramChannelOptions): ChannelModule {
  const adapter = createTelegramAdapter({
    token: options.token,
    webhookSecret: options.webhookSecret,
    log: options.log,
    ...(options.maxFileBytes !== undefined ? { maxFileBytes: options.maxFileBytes } : {}),
    ...(options.mode === 'polling'
      ? { polling: { onUpdate: async (update: unknown) => void (await intake.handle(update)) } }
      : {}),
  });
  const { receive, linkByPhone, setReachable, deadLetter } = options;
  // Polling calls the intake only once started, after it exists.
  const intake = createTelegramIntake({ telegram: adapter, receive, linkByPhone, setReachable, deadLetter, logger: options.log });
  return {
    name: 'telegram',
    adapter,
    fetchFile: (ref) => adapter.fetchFile(ref),
    routes: options.mode === 'webhook' ? [{ path: '/api/telegram', app: telegramRoutes({ telegram: adapter, intake }) }] : [],
    start: async () => adapter.start?.(),
    async stop() {
      await adapter.stop?.();
      // Answers to callback queries and group notes still on their way.
      await intake.idle();
    },
  };
}
