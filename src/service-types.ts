import type { Hono } from 'hono';
import type { Config } from './config.js';
import type { ChannelAdapter } from './core/channel.js';
import type { IntentClassifier } from './core/intent.js';
import type { ChannelKind, InboundMessageInput } from './core/message.js';
import type { Clock } from './core/ports.js';
import type { Database } from './db/client.js';
import type { AppEnv } from './http/app.js';
import type { LiveHub } from './inbox/live-hub.js';
import type { OutboxWorker } from './inbox/outbox-worker.js';
import type { Processor } from './inbox/processor.js';
import type { ReceiveResult } from './inbox/receive.js';
import type { Responder } from './inbox/responder.js';
import type { Logger } from './logger.js';
import type { Studio } from './studio/studio.js';
import type { AfterSales } from './aftersales/index.js';
import type { TimerWorker } from './console/sla.js';

// The service's contract, kept apart so src/service.ts reads as the list of parts it wires.

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
  /** The platform studio (versions, publish, simulator). */
  readonly studio: Studio;
  readonly seeded: boolean;
  /** The channel adapters in use (tests reach the email adapter's SMTP port through this). */
  readonly adapters: Partial<Record<ChannelKind, ChannelAdapter>>;
  /** The durable timer worker (SLA, follow-ups, after-sales timers); tests run it by hand. */
  readonly timers: TimerWorker;
  /** The after-sales loop (merchant mail worker, expiry sweep). */
  readonly aftersales: AfterSales;
  /** Stores an inbound message, then lets the bot answer it in the background. */
  receive(inbound: InboundMessageInput): Promise<ReceiveResult>;
  /** Starts background work (outbox delivery, recovery sweep, channel listeners). */
  start(): Promise<void>;
  /** Waits until every stored message has been answered and every due reply delivered. */
  settle(): Promise<void>;
  /** Stops background work and closes the database (unless it was passed in). */
  stop(): Promise<void>;
}
