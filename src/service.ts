import { createBot } from './bot/create-bot.js';
import { createConsole } from './console/index.js';
import { createActionDeps } from './actions/create-action-deps.js';
import type { InboundMessageInput } from './core/message.js';
import { type Clock, systemClock } from './core/ports.js';
import { openStorage } from './db/storage.js';
import { createApp } from './http/app.js';
import { createServiceMetrics, metricsRoutes } from './http/metrics.js';
import { LiveHub } from './inbox/live-hub.js';
import { createPipeline } from './inbox/pipeline.js';
import { createRecoverySweep } from './inbox/recovery-sweep.js';
import { timedResponder } from './inbox/timed-responder.js';
import { llmMetrics } from './llm/index.js';
import { createLlmParts } from './llm/service-llm.js';
import { createChannels } from './service-channels.js';
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
    const llm = () => createLlmParts({ config, logger, clock, db, classifier: options.classifier });
    const bot = await createBot({ config, logger, clock, db, llm, responder: options.responder });
    const metrics = createServiceMetrics({ db, llm: () => llmMetrics.snapshot(), now: () => clock.now(), onError: (err) => logger.warn({ err }, 'metrics.scrape_failed') });
    const receive = async (inbound: InboundMessageInput) => {
      const result = await pipeline.receive(inbound);
      if (!result.duplicate) metrics.messageIn(inbound.channel);
      return result;
    };
    const channels = createChannels({ config, logger, clock, db, live: hub, receive, overrides: options.adapters });
    const kickOutbox = () => pipeline.outbox.kick();
    const refundGateway = createActionDeps(config, logger).refunds;
    const humans = createConsole({ config, db, clock, hub, logger, refundGateway, kickOutbox });
    const responder = timedResponder(humans.wrapResponder(bot), metrics.turn);
    const onSent = (channel: string, writtenAt: Date | null) => metrics.messageOut(channel, writtenAt ? clock.now().getTime() - writtenAt.getTime() : 0);
    const pipeline = createPipeline({ config, db, clock, logger, hub, adapters: channels.adapters, responder, onSent });
    const sweep = createRecoverySweep(pipeline.processor, logger);
    const mounts = [...channels.mounts, ...humans.mounts, { path: '/', app: metricsRoutes(metrics, config.METRICS_TOKEN) }];
    const app = createApp({ mounts, rawBodyPaths: channels.rawBodyPaths, db, logger });
    const { processor, outbox } = pipeline;
    return {
      ...{ app, database, processor, outbox, hub, seeded: storage.seeded, adapters: channels.adapters, receive },
      async start() {
        await pipeline.start(database.kind === 'pglite');
        humans.timers.start();
        await sweep.start();
        await channels.start();
      },
      settle: () => pipeline.settle(),
      async stop() {
        sweep.stop();
        await channels.stop();
        await processor.idle();
        await humans.timers.stop();
        await outbox.stop();
        await hub.close();
        await storage.close();
      },
    };
  } catch (err) {
    await storage.close().catch(() => {});
    throw err;
  }
}
