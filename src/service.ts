import { join } from 'node:path';
import type { Hono } from 'hono';
import type { Config } from './config.js';
import type { ChannelAdapter } from './core/channel.js';
import type { ChannelKind, InboundMessageInput } from './core/message.js';
import { type Clock, systemClock } from './core/ports.js';
import { type Database, migrateDatabase, openDatabase } from './db/client.js';
import { isDatabaseEmpty, seedDemoData } from './db/seed.js';
import { createMenuResponder, loadMainMenu } from './engine/menu-responder.js';
import { type AppEnv, createApp } from './http/app.js';
import { LiveHub } from './inbox/live-hub.js';
import { OutboxWorker } from './inbox/outbox-worker.js';
import { Processor } from './inbox/processor.js';
import { type ReceiveResult, receiveInbound } from './inbox/receive.js';
import type { Responder } from './inbox/responder.js';
import type { Logger } from './logger.js';
import { createWebchatAdapter } from '../channels/webchat/index.js';

export const FLOWS_DIR = join(import.meta.dirname, '../flows');

export interface ServiceOptions {
  config: Config;
  logger: Logger;
  clock?: Clock;
  /** An already open database (tests share a migrated template); otherwise the configured one is opened. */
  database?: Database;
  /** Replace the bot (tests). */
  responder?: Responder;
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
    const responder = options.responder ?? createMenuResponder(loadMainMenu(join(FLOWS_DIR, 'main-menu.yaml')));
    const adapters: Partial<Record<ChannelKind, ChannelAdapter>> = {
      webchat: createWebchatAdapter((channelIdentityId, conversationId) =>
        hub.publish({ type: 'message', conversationId, channelIdentityId }),
      ),
      ...options.adapters,
    };
    const outbox = new OutboxWorker({
      db,
      clock,
      logger,
      adapters,
      maxAttempts: config.OUTBOX_MAX_ATTEMPTS,
      pollMs: config.OUTBOX_POLL_MS,
    });
    const processor = new Processor({ db, clock, logger, responder, onOutbox: () => outbox.kick() });
    let sweepTimer: NodeJS.Timeout | null = null;

    const receive = async (inbound: InboundMessageInput) => {
      const result = await receiveInbound({ db, clock }, inbound);
      if (!result.duplicate) {
        await hub.publish({ type: 'message', conversationId: result.conversationId, channelIdentityId: result.channelIdentityId });
        void processor.schedule(result.conversationId);
      }
      return result;
    };

    // Feature routes (channels' webhooks, console, admin) are added here.
    const mounts: { path: string; app: Hono<any> }[] = [];

    const app = createApp({
      mounts,
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
      receive,
      async start() {
        outbox.start();
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
          if ((await outbox.runOnce()) === 0) return;
        }
      },
      async stop() {
        if (sweepTimer) clearTimeout(sweepTimer);
        sweepTimer = null;
        for (const adapter of Object.values(adapters)) await adapter.stop?.();
        await processor.idle();
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
