import { GrammyError, HttpError } from 'grammy';
import { telegramBotApi } from '../service-channels.js';
import { loadConfig } from '../config.js';
import { AppError } from '../core/errors.js';
import type { RegisterCommands } from './index.js';

/** The path Telegram posts updates to, below PUBLIC_URL. */
export const TELEGRAM_WEBHOOK_PATH = '/api/telegram/webhook';

/** `kefu telegram set-webhook | delete-webhook`: registers our webhook with the Bot API. */
export const registerTelegramCommands: RegisterCommands = (program) => {
  const telegram = program.command('telegram').description('Telegram bot setup');

  telegram
    .command('set-webhook')
    .description(`register \${PUBLIC_URL}${TELEGRAM_WEBHOOK_PATH} with TELEGRAM_WEBHOOK_SECRET as the bot's webhook`)
    .option('--drop-pending', 'drop updates Telegram is still holding')
    .action(async (opts: { dropPending?: boolean }) => {
      const config = loadConfig();
      if (!config.TELEGRAM_WEBHOOK_SECRET) throw new AppError('bad_request', 'TELEGRAM_WEBHOOK_SECRET is not set');
      const url = new URL(TELEGRAM_WEBHOOK_PATH, config.publicUrl).toString();
      await botApi(config.TELEGRAM_BOT_TOKEN, config.TELEGRAM_WEBHOOK_SECRET, (adapter) =>
        adapter.setWebhook(url, { dropPendingUpdates: opts.dropPending ?? false }),
      );
      process.stdout.write(`webhook set: ${url}\n`);
    });

  telegram
    .command('delete-webhook')
    .description("remove the bot's webhook (TELEGRAM_MODE=polling removes it by itself at start)")
    .option('--drop-pending', 'drop updates Telegram is still holding')
    .action(async (opts: { dropPending?: boolean }) => {
      const config = loadConfig();
      await botApi(config.TELEGRAM_BOT_TOKEN, undefined, (adapter) =>
        adapter.deleteWebhook({ dropPendingUpdates: opts.dropPending ?? false }),
      );
      process.stdout.write('webhook deleted\n');
    });
};

async function botApi(
  token: string | undefined,
  secret: string | undefined,
  call: (adapter: ReturnType<typeof telegramBotApi>) => Promise<void>,
): Promise<void> {
  if (!token) throw new AppError('bad_request', 'TELEGRAM_BOT_TOKEN is not set');
  try {
    await call(telegramBotApi(token, secret));
  } catch (err) {
    if (err instanceof GrammyError) throw new AppError('bad_request', `Telegram refused: ${err.description}`, undefined, { cause: err });
    if (err instanceof HttpError) throw new AppError('unavailable', 'Could not reach the Telegram Bot API', undefined, { cause: err });
    throw err;
  }
}
