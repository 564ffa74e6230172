import type { LlmParts } from '../bot/create-bot.js';
import type { IntentClassifier } from '../core/intent.js';
import { type Clock, systemClock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import type { Lexicon } from '../intent/lexicon.js';
import type { Logger } from '../logger.js';
import { createClassifier, createSummarizer, type LlmFactoryOptions } from './index.js';
import type { LlmConfig } from './client.js';

/** The LLM part: the rules → LLM cascade (or the rules alone without OPENAI_API_KEY), and the summarizer. */
export function createLlmParts(deps: {
  config: LlmConfig;
  logger: Logger;
  clock: Clock;
  db: Db;
  rules?: IntentClassifier;
  /** The LLM prompt's intent guide from the lexicon in force (the studio publishes new ones). */
  guide?: () => Lexicon['guide'];
  classifier?: IntentClassifier | undefined;
}): LlmParts {
  const { config, logger, clock, db } = deps;
  const options: LlmFactoryOptions = {
    ...(clock === systemClock ? {} : { clock }),
    ...(deps.rules ? { rules: deps.rules } : {}),
    ...(deps.guide ? { guide: deps.guide } : {}),
  };
  const summarizer = createSummarizer(config, logger);
  return {
    classifier: deps.classifier ?? createClassifier(config, logger, options),
    summarizer: summarizer ? { db, summarizer } : null,
  };
}
