import type { Hono } from 'hono';
import type { RefundGateway } from '../actions/ports.js';
import type { Config } from '../config.js';
import type { Clock } from '../core/ports.js';
import type { Db, Tx } from '../db/client.js';
import type { LiveHub } from '../inbox/live-hub.js';
import type { Logger } from '../logger.js';
import type { TimerHandler } from '../console/sla.js';
import { afterSalesApiRoutes } from '../console/aftersales-routes.js';
import { merchantPages } from '../console/merchants.js';
import { sweepExpiredCoupons, type SweepRun } from './expiry-sweep.js';
import { MailOutboxWorker } from './mail-outbox.js';
import { type MerchantNoticeDeps, notifyMerchant } from './merchant-notice.js';
import { merchantRoutes } from './merchant-routes.js';
import { loadProgressMessages, type ProgressMessages } from './progress.js';
import { afterSalesTimerHandlers, ensureDailySweep } from './timers.js';

/** Used only in demo mode when MERCHANT_LINK_SECRET is unset, so the demo works without set-up. */
const DEMO_LINK_SECRET = 'kefu-demo-merchant-link-secret';

export interface AfterSales {
  /** The merchant response page at /merchant. */
  mounts: { path: string; app: Hono<any> }[];
  /** Handlers plugged into the durable timer worker (merchant reminder/deadline, refund paid, expiry sweep). */
  timerHandlers: Record<string, TimerHandler>;
  /** complaint.open's hook: notify the merchant in the complaint's transaction. */
  complaintOpened(tx: Tx, complaintId: string, now: Date): Promise<boolean>;
  /** Delivers merchant mail (null without SMTP_URL: mail stays queued). */
  mail: MailOutboxWorker | null;
  wording: ProgressMessages;
  /** Refunds expired unused refund_on_expiry coupons now (one transaction per batch). */
  sweepNow(now: Date): Promise<SweepRun>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the after-sales loop: merchant notices and page, progress updates, the expiry sweep. */
export function createAfterSales(deps: { config: Config; db: Db; clock: Clock; hub: LiveHub; logger: Logger; gateway: RefundGateway; kickOutbox(): void }): AfterSales {
  const { config, db, logger } = deps;
  const wording = loadProgressMessages();
  const secret = config.MERCHANT_LINK_SECRET ?? (config.demoMode ? DEMO_LINK_SECRET : null);
  const notice: MerchantNoticeDeps = {
    secret,
    publicUrl: config.publicUrl,
    demoMode: config.demoMode,
    responseHours: config.MERCHANT_RESPONSE_HOURS,
    reminderRatio: config.MERCHANT_REMINDER_RATIO,
    merchantLocale: 'zh-Hans',
  };
  const mail =
    config.SMTP_URL && config.EMAIL_FROM
      ? new MailOutboxWorker({ db, clock: deps.clock, logger, smtpUrl: config.SMTP_URL, from: config.EMAIL_FROM, pollMs: config.OUTBOX_POLL_MS, maxAttempts: config.OUTBOX_MAX_ATTEMPTS })
      : null;
  const app = merchantRoutes({
    db,
    clock: deps.clock,
    logger,
    secret,
    wording,
    defaultLocale: 'zh-Hans',
    photoMaxBytes: config.MERCHANT_PHOTO_MAX_BYTES,
    photoMaxCount: config.MERCHANT_PHOTO_MAX_COUNT,
    onAnswered: async (conversationId, wrote) => {
      if (wrote) deps.kickOutbox();
      if (conversationId) await deps.hub.publish({ type: 'conversation', conversationId });
    },
  });
  const sweepDeps = { gateway: deps.gateway, wording, logger };
  return {
    mounts: [
      { path: '/merchant', app },
      { path: '/console', app: merchantPages({ db, clock: deps.clock, sessionTtlMs: config.SESSION_TTL_HOURS * 3600_000 }) },
      {
        path: '/api',
        app: afterSalesApiRoutes({
          db,
          clock: deps.clock,
          hub: deps.hub,
          sessionTtlMs: config.SESSION_TTL_HOURS * 3600_000,
          gateway: deps.gateway,
          wording,
          compensationCapCents: config.COMPENSATION_CAP_CENTS,
          kickOutbox: deps.kickOutbox,
        }),
      },
    ],
    timerHandlers: afterSalesTimerHandlers({ ...sweepDeps, db, notice, refundPollMs: config.REFUND_STATUS_POLL_MINUTES * 60_000 }),
    complaintOpened: (tx, complaintId, now) => notifyMerchant(tx, notice, complaintId, now),
    mail,
    wording,
    async sweepNow(now) {
      const run = await sweepExpiredCoupons(sweepDeps, (fn) => db.transaction(fn), now);
      if (run.told > 0) deps.kickOutbox();
      return run;
    },
    async start() {
      if (!secret) logger.warn('merchant_link.no_secret');
      await ensureDailySweep(db, deps.clock.now());
      mail?.start();
    },
    async stop() {
      await mail?.stop();
    },
  };
}
