import { createActionDeps } from '../actions/create-action-deps.js';
import { handoffPolicyFromConfig } from '../actions/handoff.js';
import { createActionRegistry } from '../actions/index.js';
import type { Config } from '../config.js';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import { FlowLibrary } from '../engine/flow-library.js';
import { loadFlows } from '../engine/load-flows.js';
import type { Responder } from '../inbox/responder.js';
import type { LlmParts } from '../llm/service-llm.js';
import type { Logger } from '../logger.js';
import { FLOWS_DIR } from '../paths.js';
import { createFlowResponder } from './flow-responder.js';
import { saveFlowSnapshots } from './flow-snapshots.js';

/**
 * The bot: the flow engine over flows/*.yaml, the domain actions and intent detection. Every
 * loaded flow version is stored first, so conversations pinned to it survive a restart.
 */
export async function createBot(deps: {
  config: Config;
  logger: Logger;
  clock: Clock;
  db: Db;
  /** Builds the LLM part; called only when the flow responder is built. */
  llm(): LlmParts;
  /** Replace the bot (tests). */
  responder?: Responder | undefined;
}): Promise<Responder> {
  const { config, logger, db } = deps;
  const library = new FlowLibrary(loadFlows(FLOWS_DIR));
  await saveFlowSnapshots(db, library, deps.clock.now());
  if (deps.responder) return deps.responder;
  const llm = deps.llm();
  return createFlowResponder({
    library,
    classifier: llm.classifier,
    actions: createActionRegistry(createActionDeps(config, logger)),
    logger,
    handoffPolicy: handoffPolicyFromConfig(config),
    summarizer: llm.summarizer,
  });
}
