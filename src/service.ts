import { createBot } from './bot/create-bot.js';
import { SESSION_COOKIE } from './console/auth.js';
import { createConsole } from './console/index.js';
import { createActionDeps } from './actions/create-action-deps.js';
import type { InboundMessageInput } from './core/message.js';
import { type Clock, systemClock } from './core/ports.js';
import { openStorage } from './db/storage.js';
import { warnWithoutAutovacuum } from './db/autovacuum-check.js';
import { createApp } from './http/app.js';
import { createServiceMetrics, metricsRoutes } from './http/metrics.js';
import { configuredAttachmentStore, createAcceptFile } from './attachments/index.js';
import type { Message } from './db/schema.js';
import { fetchMessageFiles } from './inbox/message-files.js';
import { LiveHub } from './inbox/live-hub.js';
import { createPipeline } from './inbox/pipeline.js';
import { createRecoverySweep } from './inbox/recovery-sweep.js';
import { timedResponder } from './inbox/timed-responder.js';
import { llmMetrics } from './llm/index.js';
import { createLlmParts } from './llm/service-llm.js';
import { studioMounts } from './admin/studio-mounts.js';
import { createStudio } from './studio/create-studio.js';
import { createAfterSales } from './aftersales/index.js';
import { createChannels } from './service-channels.js';
import { throttleClaimedReplies } from './inbox/claimed-throttle.js';
import { armRetention } from './privacy/retention.js';
import type { Service, ServiceOptions } from './service-types.js';

export { FLOWS_DIR } from './paths.js';
export type { Service, ServiceOptions } from './service-types.js';

/** Builds a service, one part at a time; each part's factory lives in the room of what it builds. */
export async function createService(options: ServiceOptions): Promise<Service> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const storage = await openStorage(options);
  try {
    const { database } = storage;
    const db = database.db;
    const hub = new LiveHub(database);
    await hub.start();
    const { studio, library, rules } = await createStudio({ config, logger, clock, database });
    const llm = () => createLlmParts({ config, logger, clock, db, rules, guide: () => rules.lexicon.guide, classifier: options.classifier });
    const kickOutbox = () => pipeline.outbox.kick();
    const actionDeps = createActionDeps(config, logger);
    const refundGateway = actionDeps.refunds;
    const aftersales = createAfterSales({ config, db, clock, hub, logger, gateway: refundGateway, kickOutbox });
    const actions = { ...actionDeps, complaintOpened: aftersales.complaintOpened };
    const onScrapeError = (err: unknown) => logger.warn({ err }, 'metrics.scrape_failed');
    const metrics = createServiceMetrics({ db, llm: () => llmMetrics.snapshot(), now: () => clock.now(), onError: onScrapeError });
    const receive = async (inbound: InboundMessageInput) => {
      const result = await pipeline.receive(inbound);
      if (!result.duplicate) metrics.messageIn(inbound.channel);
      return result;
    };
    // Consumers' files: PostgreSQL by default, an S3-compatible bucket when configured.
    const files = configuredAttachmentStore(config, db);
    const messageFiles = { db, clock, logger, files, accept: createAcceptFile(config.ATTACHMENT_MAX_BYTES) };
    const channels = createChannels({ config, logger, clock, db, live: hub, receive, messageFiles, overrides: options.adapters });
    const proofRemedy = channels.proofRemedy;
    const bot = await createBot({ config, logger, clock, db, library, actions, llm, proofRemedy, responder: options.responder });
    const timerHandlers = aftersales.timerHandlers;
    const humans = createConsole({ config, db, clock, hub, logger, refundGateway, kickOutbox, timerHandlers, files });
    // Answers to senders who only claim an address (a forged From) are capped per identity.
    const claimedCap = { limit: config.CLAIMED_REPLIES_PER_HOUR, windowMs: 3600_000, logger };
    const responder = timedResponder(throttleClaimedReplies(humans.wrapResponder(bot), claimedCap), metrics.turn);
    const onSent = (channel: string, writtenAt: Date | null) => metrics.messageOut(channel, writtenAt ? clock.now().getTime() - writtenAt.getTime() : 0);
    const prepareMessage = (message: Message) => fetchMessageFiles(messageFiles, message, channels.fetchFile(message.channel));
    const pipeline = createPipeline({ config, db, databaseKind: database.kind, clock, logger, hub, adapters: channels.adapters, responder, onSent, prepareMessage });
    const sweep = createRecoverySweep(pipeline.processor, logger);
    const sessionTtlMs = config.SESSION_TTL_HOURS * 3600_000;
    const mounts = [...channels.mounts, ...humans.mounts, ...aftersales.mounts, ...studioMounts({ studio, db, clock, sessionTtlMs })];
    mounts.push({ path: '/', app: metricsRoutes(metrics, config.METRICS_TOKEN) });
    const csrf = { sessionCookie: SESSION_COOKIE, trustedOrigins: [config.publicUrl], credentialPaths: ['/api/auth/login'] };
    const app = createApp({ mounts, rawBodyPaths: channels.rawBodyPaths, csrf, db, logger });
    const { processor, outbox } = pipeline;
    let maintenance: { stop(): Promise<void> } | undefined;
    return {
      ...{ app, database, processor, outbox, hub, studio, seeded: storage.seeded, adapters: channels.adapters, receive },
      ...{ timers: humans.timers, aftersales },
      async start() {
        maintenance = database.startMaintenance?.(config.PGLITE_MAINTENANCE_MS, logger);
        // Advice for the operator only: a failed check must not stop the service from starting.
        await warnWithoutAutovacuum(database, logger).catch((err: unknown) => logger.warn({ err }, 'db.autovacuum_check_failed'));
        await pipeline.start(database.kind === 'pglite');
        humans.timers.start();
        // Data retention runs as a durable timer beside the SLA timers (RETENTION_DAYS).
        if (config.RETENTION_DAYS !== undefined) await armRetention(db, clock.now());
        await aftersales.start();
        await sweep.start();
        await channels.start();
      },
      settle: () => pipeline.settle(),
      async stop() {
        sweep.stop();
        await channels.stop();
        await processor.idle();
        await humans.timers.stop();
        await aftersales.stop();
        await outbox.stop();
        await studio.stop();
        await hub.close();
        await maintenance?.stop();
        await storage.close();
      },
    };
  } catch (err) {
    await storage.close().catch(() => {});
    throw err;
  }
}
