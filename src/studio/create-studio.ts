import { createActionDeps } from '../actions/create-action-deps.js';
import type { Config } from '../config.js';
import type { Clock } from '../core/ports.js';
import type { Database } from '../db/client.js';
import { FlowLibrary } from '../engine/flow-library.js';
import { loadFlows } from '../engine/load-flows.js';
import { loadLexicon } from '../intent/lexicon.js';
import { inProcessStages, serviceModel } from '../intent/local-classifier.js';
import type { Logger } from '../logger.js';
import { FLOWS_DIR } from '../paths.js';
import { dryRunActions } from './sandbox.js';
import { Studio, SwappableClassifier } from './studio.js';

/**
 * The platform studio and what it swaps live: the flow library and the rules stage of intent
 * detection. Versions published in the database override the shipped files on every instance.
 */
export async function createStudio(deps: { config: Config; logger: Logger; clock: Clock; database: Database }) {
  const { config, logger, clock, database } = deps;
  const library = new FlowLibrary(loadFlows(FLOWS_DIR));
  // Confident rules, then the local n-gram model (INTENT_MODEL); a publish swaps the lexicon, the model stays.
  const rules = new SwappableClassifier(loadLexicon(), inProcessStages(serviceModel(config.INTENT_MODEL)));
  const studio = new Studio({
    database,
    clock,
    logger,
    actions: dryRunActions(createActionDeps(config, logger)),
    library,
    rules,
    fourEyes: config.STUDIO_FOUR_EYES,
  });
  await studio.start();
  return { studio, library, rules };
}
