import type { AttachmentStore } from '../attachments/store.js';
import type { Hono } from 'hono';
import type { RefundGateway } from '../actions/ports.js';
import type { Config } from '../config.js';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import type { LiveHub } from '../inbox/live-hub.js';
import type { Responder } from '../inbox/responder.js';
import type { Logger } from '../logger.js';
import { consoleApiRoutes, type ConsoleDeps } from './api-routes.js';
import { consolePages } from './pages.js';
import { withSatisfaction } from './satisfaction.js';
import { type TimerHandler, TimerWorker } from './sla.js';
import { loadHandoffMessages } from './wording.js';

export interface ConsoleModule {
  /** Routes to mount: the JSON API at /api, the pages at /console and /admin. */
  mounts: { path: string; app: Hono<any> }[];
  /** The durable timer worker (SLA warnings and breaches, complaint follow-ups). */
  timers: TimerWorker;
  /** Wraps the bot so answers to the satisfaction question are recorded. */
  wrapResponder(responder: Responder): Responder;
}

/** Builds the human side: console API and pages, the SLA timer worker, the satisfaction hook. */
export function createConsole(deps: {
  config: Config;
  db: Db;
  clock: Clock;
  hub: LiveHub;
  logger: Logger;
  /** Pays approved refunds; the bot's refund actions use the same one. */
  refundGateway: RefundGateway;
  kickOutbox(): void;
  /** Timer kinds of the after-sales loop, fired by the same durable timer worker. */
  timerHandlers?: Record<string, TimerHandler>;
  /** Where consumers' files are kept. */
  files: AttachmentStore;
}): ConsoleModule {
  const { config } = deps;
  const wording = loadHandoffMessages();
  const consoleDeps: ConsoleDeps = {
    db: deps.db,
    clock: deps.clock,
    hub: deps.hub,
    wording,
    sessionTtlMs: config.SESSION_TTL_HOURS * 3600_000,
    followupDays: config.FOLLOWUP_DAYS,
    complaintThreshold: config.COMPLAINT_RATE_THRESHOLD,
    secureCookies: config.publicUrl.startsWith('https://'),
    refundGateway: deps.refundGateway,
    kickOutbox: deps.kickOutbox,
    trustProxy: config.TRUST_PROXY ?? null,
    timeZone: config.CONSOLE_TIME_ZONE,
    files: deps.files,
  };
  const pages = consolePages(consoleDeps);
  const timers = new TimerWorker({
    db: deps.db,
    wording,
    ...(deps.timerHandlers ? { handlers: deps.timerHandlers } : {}),
    retentionDays: config.RETENTION_DAYS,
    clock: deps.clock,
    logger: deps.logger,
    pollMs: config.TIMER_POLL_MS,
    // PGlite runs one statement at a time: more lanes would only queue ahead of the bot's turns.
    concurrency: config.database.kind === 'pglite' ? 1 : config.TIMER_CONCURRENCY,
    onFired: async (fired) => {
      if (fired.wrote) deps.kickOutbox();
      if (fired.conversationId) await deps.hub.publish({ type: 'conversation', conversationId: fired.conversationId });
    },
  });
  return {
    mounts: [
      { path: '/api', app: consoleApiRoutes(consoleDeps) },
      { path: '/console', app: pages.console },
      { path: '/admin', app: pages.admin },
    ],
    timers,
    wrapResponder: (responder) => withSatisfaction(responder, wording),
  };
}
