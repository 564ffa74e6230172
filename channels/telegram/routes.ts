import { Hono } from 'hono';
import type { ChannelLog, ReceiveInbound } from '../../src/core/channel-module.js';
import { AppError } from '../../src/core/errors.js';
import type { TelegramAdapter } from './index.js';
import { isTransientError } from '../../src/core/transient.js';

export interface TelegramIntakeDeps {
  telegram: TelegramAdapter;
  /** Stores a message durably and schedules the bot; resolves once it is stored. */
  receive: ReceiveInbound;
  /** Links the sender to the customer with a phone number they proved is theirs. */
  linkByPhone(externalId: string, phone: string): Promise<void>;
  /** Records that the user blocked (or unblocked) the bot, so the outbox stops (or resumes) sending. */
  setReachable(externalId: string, reachable: boolean): Promise<void>;
  /** Keeps an update that can never be stored (see dead_letters); throws when even that fails. */
  deadLetter(payload: string, reason: string): Promise<void>;
  logger: ChannelLog;
}

/** What the intake did with one update. */
export type TelegramIntakeResult =
  | { status: 'stored' | 'duplicate'; messageId: string }
  | { status: 'ignored'; reason: string }
  | { status: 'invalid'; error: string };

/**
 * Handles one Telegram update from the webhook or from long polling: stores it through the
 * pipeline (the bot's answers and the channel's own notices go out from the outbox), and runs the
 * remaining side effects (callback answers, the group note) without making Telegram wait for them.
 */
export function createTelegramIntake(deps: TelegramIntakeDeps) {
  const { telegram, logger } = deps;
  const background = new Set<Promise<void>>();
  const inBackground = (what: string, task: () => Promise<void>) => {
    const run = task()
      .catch((err: unknown) => logger.warn({ err, what }, 'telegram.side_effect_failed'))
      .finally(() => background.delete(run));
    background.add(run);
  };

  /**
   * Telegram redelivers an update until it gets a 2xx, so an update that can never be stored is
   * kept as a dead letter and acknowledged; only "we could not store it now" (the database is
   * away) is left to Telegram's retry.
   */
  async function deadLetter(raw: unknown, reason: string, err?: unknown): Promise<void> {
    await deps.deadLetter(typeof raw === 'string' ? raw : (JSON.stringify(raw) ?? String(raw)), reason);
    logger.warn({ ...(err === undefined ? {} : { err }), reason }, 'telegram.update_dead_lettered');
  }

  async function handle(raw: unknown): Promise<TelegramIntakeResult> {
    try {
      return await handleUpdate(raw);
    } catch (err) {
      if (isTransientError(err)) throw err;
      await deadLetter(raw, `failed: ${err instanceof Error ? err.name : 'error'}`, err);
      return { status: 'ignored', reason: 'dead_letter' };
    }
  }

  async function handleUpdate(raw: unknown): Promise<TelegramIntakeResult> {
    const parsed = telegram.parseUpdate(raw);
    if (parsed.kind === 'invalid') {
      await deadLetter(raw, `invalid: ${parsed.error}`);
      return { status: 'invalid', error: parsed.error };
    }
    const { callbackQueryId, chatId, notice, locale, reachability } = parsed;
    if (reachability) await deps.setReachable(reachability.externalId, reachability.reachable);
    // Direct, not through the outbox: it acknowledges the button press (stops the spinner); it is no message.
    if (callbackQueryId) inBackground('answer_callback_query', () => telegram.answerCallbackQuery(callbackQueryId));
    if (parsed.kind === 'ignored') {
      logger.info({ updateId: parsed.updateId, updateKind: parsed.updateKind, reason: parsed.reason }, 'telegram.update_ignored');
      // The only direct message: a group has no conversation (and no outbox row) to hold it.
      // Private-chat notices travel with their message (`inbound.notices`) through the outbox.
      if (notice === 'group_unsupported' && chatId !== null) inBackground(notice, () => telegram.sendGroupNotice(chatId, locale));
      return { status: 'ignored', reason: parsed.reason };
    }
    const { inbound, verifiedPhone } = parsed;
    // Before intake, so the message (and the bot's answer) already belongs to the linked customer.
    if (verifiedPhone) await deps.linkByPhone(inbound.sender.externalId, verifiedPhone);
    const result = await deps.receive(inbound);
    logger.debug({ updateId: parsed.updateId, messageId: result.messageId, duplicate: result.duplicate }, 'telegram.update_received');
    return { status: result.duplicate ? 'duplicate' : 'stored', messageId: result.messageId };
  }

  return {
    handle,
    deadLetter,
    /** Waits for answers to callback queries and group notes still on their way (tests, shutdown). */
    async idle(): Promise<void> {
      while (background.size > 0) await Promise.allSettled([...background]);
    },
  };
}
export type TelegramIntake = ReturnType<typeof createTelegramIntake>;

/** `POST /webhook`: Telegram's webhook, verified by the secret token header. */
export function telegramRoutes(deps: { telegram: TelegramAdapter; intake: TelegramIntake }): Hono {
  const app = new Hono();
  app.post('/webhook', async (c) => {
    if (!deps.telegram.verifyWebhookSecret(c.req.header('x-telegram-bot-api-secret-token'))) {
      throw new AppError('unauthorized', 'missing or wrong X-Telegram-Bot-Api-Secret-Token');
    }
    const body = await c.req.text();
    let raw: unknown;
    try {
      raw = JSON.parse(body);
    } catch {
      await deps.intake.deadLetter(body, 'invalid: not JSON');
      return c.json({ ok: true, ignored: 'not JSON' });
    }
    // Telegram only needs a 2xx; anything else makes it redeliver the update. What can never be
    // stored was kept as a dead letter, and is acknowledged too.
    const result = await deps.intake.handle(raw);
    return c.json({ ok: true, ...(result.status === 'invalid' ? { ignored: result.error } : {}) });
  });
  return app;
}
