import { join } from 'node:path';
import type { Hono } from 'hono';
import type { Config } from './config.js';
import type { ChannelAdapter } from './core/channel.js';
import type { ChannelKind, InboundMessageInput } from './core/message.js';
import { type Clock, systemClock } from './core/ports.js';
import { type Database, migrateDatabase, openDatabase } from './db/client.js';
import { isDatabaseEmpty, seedDemoData } from './db/seed.js';
import { createActionRegistry } from './actions/index.js';
import { createActionDeps } from './actions/create-action-deps.js';
import { handoffPolicyFromConfig } from './actions/handoff.js';
import type { IntentClassifier } from './core/intent.js';
import { FlowLibrary } from './engine/flow-library.js';
import { createFlowResponder } from './engine/flow-responder.js';
import { loadFlows } from './engine/load-flows.js';
import { saveFlowVersions } from './db/flow-versions.js';
import { createClassifier, createSummarizer } from './llm/index.js';
import { type AppEnv, createApp } from './http/app.js';
import { LiveHub } from './inbox/live-hub.js';
import { OutboxWorker } from './inbox/outbox-worker.js';
import { Processor } from './inbox/processor.js';
import { type ReceiveResult, receiveInbound } from './inbox/receive.js';
import type { Responder } from './inbox/responder.js';
import type { Logger } from './logger.js';
import { createWebchatAdapter } from '../channels/webchat/index.js';
import { createConsole } from './console/index.js';
import { EmailAdapter } from '../channels/email/index.js';
import { EMAIL_INBOUND_PATH, emailRoutes } from './http/email-routes.js';
import { markUnreachable } from './inbox/mark-unreachable.js';
import { createThreadMatcher } from './inbox/thread-matcher.js';
import { throttleClaimedReplies } from './inbox/claimed-throttle.js';
import { armRetention } from './privacy/retention.js';
import { createTelegramAdapter } from '../channels/telegram/index.js';
import { createTelegramIntake, type TelegramIntake, telegramRoutes } from './http/telegram-routes.js';
import { linkIdentityByPhone, setIdentityReachable } from './inbox/link-identity.js';

export { FLOWS_DIR } from './paths.js';
import { FLOWS_DIR } from './paths.js';

export interface ServiceOptions {
  config: Config;
  logger: Logger;
  clock?: Clock;
  /** An already open database (tests share a migrated template); otherwise the configured one is opened. */
  database?: Database;
  /** Replace the bot (tests). */
  responder?: Responder;
  /** Replace intent detection (tests pass a scripted classifier). */
  classifier?: IntentClassifier;
  /** Replace or add channel adapters (tests pass fakes for remote channels). */
  adapters?: Partial<Record<ChannelKind, ChannelAdapter>>;
  /** Seed demo data into an empty database (default: config.SEED_ON_EMPTY). */
  seedIfEmpty?: boolean;
}

/** Everything one kefu instance runs: database, pipeline, workers and the HTTP app. */
export interface Service {
  readonly app: Hono<AppEnv>;
  readonly database: Database;
  readonly processor: Processor;
  readonly outbox: OutboxWorker;
  readonly hub: LiveHub;
  readonly seeded: boolean;
  /** The channel adapters in use (tests reach the email adapter's SMTP port through this). */
  readonly adapters: Partial<Record<ChannelKind, ChannelAdapter>>;
  /** Stores an inbound message, then lets the bot answer it in the background. */
  receive(inbound: InboundMessageInput): Promise<ReceiveResult>;
  /** Starts background work (outbox delivery, recovery sweep, channel listeners). */
  start(): Promise<void>;
  /** Waits until every stored message has been answered and every due reply delivered. */
  settle(): Promise<void>;
  /** Stops background work and closes the database (unless it was passed in). */
  stop(): Promise<void>;
}

/** Builds a service: opens and migrates the database, seeds demo data on first start, wires the pipeline. */
export async function createService(options: ServiceOptions): Promise<Service> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const database = options.database ?? (await openDatabase(config.database));
  const ownsDatabase = options.database === undefined;
  try {
    await migrateDatabase(database);
    let seeded = false;
    if ((options.seedIfEmpty ?? config.SEED_ON_EMPTY) && (await isDatabaseEmpty(database.db))) {
      await seedDemoData(database.db);
      seeded = true;
      logger.info('seed.done');
    }
    const db = database.db;
    const hub = new LiveHub(database);
    await hub.start();
    // The bot: the flow engine over flows/*.yaml, the domain actions and intent detection.
    const flowLibrary = new FlowLibrary(loadFlows(FLOWS_DIR));
    await saveFlowVersions(db, flowLibrary.all(), clock.now());
    const responder =
      options.responder ??
      createFlowResponder({
        library: flowLibrary,
        classifier: options.classifier ?? createClassifier(config, logger, clock === systemClock ? {} : { clock }),
        actions: createActionRegistry(createActionDeps(config, logger)),
        logger,
        handoffPolicy: handoffPolicyFromConfig(config),
        summarizer: summarizerFor(config, logger, db),
        proofRemedy: (channel) => adapters[channel]?.capabilities.proofRemedy ?? null,
      });
    // Telegram: the adapter sends; updates arrive on the webhook route, or from start() when polling.
    let telegramIntake: TelegramIntake | null = null;
    const telegramMode = config.TELEGRAM_MODE ?? 'off';
    const telegram =
      telegramMode !== 'off' && config.TELEGRAM_BOT_TOKEN
        ? createTelegramAdapter({
            token: config.TELEGRAM_BOT_TOKEN,
            webhookSecret: config.TELEGRAM_WEBHOOK_SECRET,
            log: logger,
            ...(telegramMode === 'polling'
              ? { polling: { onUpdate: async (update: unknown) => void (await telegramIntake?.handle(update)) } }
              : {}),
          })
        : null;
    // Email: inbound over the SMTP listener and/or the webhook, outbound over SMTP_URL, each when configured.
    const email =
      config.SMTP_LISTEN_PORT !== undefined || config.SMTP_URL || config.EMAIL_WEBHOOK_SECRET
        ? new EmailAdapter({
            from: config.EMAIL_FROM ?? null,
            smtpUrl: config.SMTP_URL ?? null,
            listenPort: config.SMTP_LISTEN_PORT ?? null,
            listenHost: config.HOST,
            trustedAuthservIds: config.EMAIL_TRUSTED_AUTHSERV_ID,
            log: logger,
            intake: {
              receive: (inbound) => receive(inbound),
              markUnreachable: async (addresses, reason) => void (await markUnreachable(db, 'email', addresses, reason)),
            },
          })
        : null;
    const adapters: Partial<Record<ChannelKind, ChannelAdapter>> = {
      ...(email ? { email } : {}),
      webchat: createWebchatAdapter(),
      ...(telegram ? { telegram } : {}),
      ...options.adapters,
    };
    const outbox = new OutboxWorker({
      db,
      clock,
      logger,
      adapters,
      maxAttempts: config.OUTBOX_MAX_ATTEMPTS,
      pollMs: config.OUTBOX_POLL_MS,
      // Live views re-read once the delivery is committed (web chat shows delivered replies only).
      onDelivered: (conversationId, channelIdentityId) => {
        hub
          .publish({ type: 'message', conversationId, ...(channelIdentityId ? { channelIdentityId } : {}) })
          .catch((err: unknown) => logger.warn({ err, conversationId }, 'live.publish_failed'));
      },
    });
    // The human side: console API and pages, SLA timers, and the satisfaction answer hook around the bot.
    const humans = createConsole({
      config,
      db,
      clock,
      hub,
      logger,
      refundGateway: createActionDeps(config, logger).refunds,
      kickOutbox: () => outbox.kick(),
    });
    const processor = new Processor({
      db,
      clock,
      logger,
      // Answers to senders who only claim an address (a forged From) are capped per identity.
      responder: throttleClaimedReplies(humans.wrapResponder(responder), {
        limit: config.CLAIMED_REPLIES_PER_HOUR,
        windowMs: 3600_000,
        logger,
      }),
      onOutbox: () => outbox.kick(),
      // Agents' console views follow conversations live (handoffs happen inside bot turns).
      onChange: (conversationId) => void hub.publish({ type: 'conversation', conversationId }),
    });
    let sweepTimer: NodeJS.Timeout | null = null;

    // Threading hints (email) join their conversation; numbered replies answer the last options where a channel has no buttons.
    const matchConversation = createThreadMatcher(clock);
    const numberedChoices = (channel: ChannelKind) => adapters[channel]?.capabilities.buttons === false;
    const receive = async (inbound: InboundMessageInput) => {
      const result = await receiveInbound({ db, clock, matchConversation, numberedChoices }, inbound);
      if (!result.duplicate) {
        await hub.publish({ type: 'message', conversationId: result.conversationId, channelIdentityId: result.channelIdentityId });
        void processor.schedule(result.conversationId);
        // A channel's own notices were written with the message: deliver them without waiting for a poll.
        if (inbound.notices?.length) outbox.kick();
      }
      return result;
    };

    // Feature routes (channels' webhooks, console, admin) are added here.
    const mounts: { path: string; app: Hono<any> }[] = [];
    mounts.push(...humans.mounts);
    if (email) mounts.push({ path: '/api/email', app: emailRoutes({ secret: config.EMAIL_WEBHOOK_SECRET, ingest: (raw) => email.ingest(raw) }) });
    if (telegram) {
      telegramIntake = createTelegramIntake({
        telegram,
        receive,
        logger,
        linkByPhone: async (externalId, phone) => {
          const linked = await linkIdentityByPhone(db, { channel: 'telegram', externalId, phone, now: clock.now() });
          logger.info({ channel: 'telegram', outcome: linked.outcome }, 'channel_identity.phone_verified');
        },
        setReachable: async (externalId, reachable) =>
          void (await setIdentityReachable(db, { channel: 'telegram', externalId, reachable, reason: 'bot blocked by the user' })),
      });
      if (telegramMode === 'webhook') mounts.push({ path: '/api/telegram', app: telegramRoutes({ telegram, intake: telegramIntake }) });
    }

    const app = createApp({
      mounts,
      rawBodyPaths: [EMAIL_INBOUND_PATH],
      db,
      clock,
      hub,
      logger,
      demoMode: config.demoMode,
      identitySecret: config.WEBCHAT_IDENTITY_SECRET,
      receive,
    });

    return {
      app,
      database,
      processor,
      outbox,
      hub,
      seeded,
      adapters,
      receive,
      async start() {
        // The directory lock makes this process PGlite's only user: leases and claims left by a
        // killed predecessor are stale, and waiting them out would delay its messages.
        if (database.kind === 'pglite') {
          await processor.releaseAllLeases();
          await outbox.releaseAllClaims();
        }
        outbox.start();
        // Data retention runs as a durable timer beside the SLA timers (RETENTION_DAYS).
        if (config.RETENTION_DAYS !== undefined) await armRetention(db, clock.now());
        humans.timers.start();
        await processor.sweep();
        const sweep = () => {
          sweepTimer = setTimeout(() => {
            processor
              .sweep()
              .catch((err: unknown) => logger.error({ err }, 'processor.sweep_failed'))
              .finally(() => {
                if (sweepTimer) sweep();
              });
          }, 5000);
          sweepTimer.unref();
        };
        sweep();
        for (const adapter of Object.values(adapters)) await adapter.start?.();
      },
      async settle() {
        for (let i = 0; i < 20; i += 1) {
          await processor.idle();
          await outbox.drain();
          await processor.sweep();
          await processor.idle();
          if ((await outbox.runOnce()) === 0 && !outbox.busy) return;
        }
      },
      async stop() {
        if (sweepTimer) clearTimeout(sweepTimer);
        sweepTimer = null;
        for (const adapter of Object.values(adapters)) await adapter.stop?.();
        await telegramIntake?.idle();
        await processor.idle();
        await humans.timers.stop();
        await outbox.stop();
        await hub.close();
        if (ownsDatabase) await database.close();
      },
    };
  } catch (err) {
    if (ownsDatabase) await database.close().catch(() => {});
    throw err;
  }
}

/** The LLM handoff summarizer when a key is configured; otherwise the rule-based summary stays. */
function summarizerFor(config: Config, logger: Logger, db: Database['db']) {
  const summarizer = createSummarizer(config, logger);
  return summarizer ? { db, summarizer } : null;
}
