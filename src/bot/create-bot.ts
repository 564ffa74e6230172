import { type HandoffSummarizer, handoffPolicyFromConfig } from '../actions/handoff.js';
import { type ActionDeps, createActionRegistry } from '../actions/index.js';
import type { Config } from '../config.js';
import type { ProofRemedy } from '../core/identity.js';
import type { IntentClassifier } from '../core/intent.js';
import type { ChannelKind } from '../core/message.js';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import type { FlowLibrary } from '../engine/flow-library.js';
import type { Responder } from '../inbox/responder.js';
import type { Logger } from '../logger.js';
import { createFlowResponder } from './flow-responder.js';
import { saveFlowSnapshots } from './flow-snapshots.js';

/** What the bot needs from the LLM part: intent detection and, with a key, the handoff summarizer. */
export interface LlmParts {
  classifier: IntentClassifier;
  /** Rewrites a handoff's rule-based summary after the turn committed; null = keep the rule-based one. */
  summarizer: { db: Db; summarizer: HandoffSummarizer } | null;
}

/**
 * The bot: the flow engine over flows/*.yaml, the domain actions and intent detection. Every
 * loaded flow version is stored first, so conversations pinned to it survive a restart.
 */
export async function createBot(deps: {
  config: Config;
  logger: Logger;
  clock: Clock;
  db: Db;
  /** The flows in force (the platform studio swaps published versions into it). */
  library: FlowLibrary;
  /** What the domain actions run against (orders, refunds, complaint hooks). */
  actions: ActionDeps;
  /** How a channel's sender can prove who they are (sign in, share contact, reply), for account actions. */
  proofRemedy?: (channel: ChannelKind) => ProofRemedy | null;
  /** Builds the LLM part; called only when the flow responder is built. */
  llm(): LlmParts;
  /** Replace the bot (tests). */
  responder?: Responder | undefined;
}): Promise<Responder> {
  const { config, logger, db } = deps;
  const { library } = deps;
  await saveFlowSnapshots(db, library, deps.clock.now());
  if (deps.responder) return deps.responder;
  const llm = deps.llm();
  return createFlowResponder({
    library,
    classifier: llm.classifier,
    actions: createActionRegistry(deps.actions),
    logger,
    handoffPolicy: handoffPolicyFromConfig(config),
    summarizer: llm.summarizer,
    ...(deps.proofRemedy ? { proofRemedy: deps.proofRemedy } : {}),
  });
}
