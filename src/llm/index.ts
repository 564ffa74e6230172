import { join } from 'node:path';
import type { HandoffSummarizer } from '../actions/handoff.js';
import type { IntentClassifier } from '../core/intent.js';
import { type Clock, systemClock } from '../core/ports.js';
import { type Lexicon, loadLexicon } from '../intent/lexicon.js';
import { confidentEnough, createRulesClassifier } from '../intent/rules-classifier.js';
import { createLocalClassifier } from '../intent/local-classifier.js';
import { loadModel } from '../intent/ngram-model.js';
import type { Logger } from '../logger.js';
import { createCascadeClassifier } from './cascade.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { createLlmClient, type LlmConfig } from './client.js';
import { renderIntentGuide } from './intent-guide.js';
import { createLlmClassifier } from './llm-classifier.js';
import { type LlmMetrics, llmMetrics } from './metrics.js';
import { loadPrompt } from './prompts.js';
import type { LlmCallDeps } from './structured-call.js';
import { createLlmSummarizer, loadSummaryLabels } from './summarize.js';

export { checkPromptVariables } from './prompts.js';
export { llmMetrics, LlmMetrics } from './metrics.js';

/** Where the shipped prompt templates live. */
export const PROMPTS_DIR = join(import.meta.dirname, '../../prompts');

export interface LlmFactoryOptions {
  clock?: Clock;
  metrics?: LlmMetrics;
  /** The rules stage (default: the shipped lexicon). */
  rules?: IntentClassifier;
  promptsDir?: string;
  /** Where the LLM's intent guide (descriptions, examples) comes from (default: the shipped lexicon). */
  lexicon?: Lexicon;
  /** The guide of the lexicon in force, asked per call (a published lexicon replaces it); overrides `lexicon`. */
  guide?: () => Lexicon['guide'];
}

function callDeps(config: LlmConfig, logger: Logger, metrics: LlmMetrics): LlmCallDeps | null {
  const client = createLlmClient(config);
  if (!client) return null;
  return {
    client,
    model: config.OPENAI_MODEL,
    responseFormat: config.OPENAI_RESPONSE_FORMAT,
    timeoutMs: config.OPENAI_TIMEOUT_MS,
    logger,
    metrics,
  };
}

/**
 * The intent classifier the service uses: with OPENAI_API_KEY the rules → LLM cascade (with a
 * circuit breaker), without it the rules alone. Logs which (`llm.enabled` / `llm.disabled`) once.
 */
export function createClassifier(config: LlmConfig, logger: Logger, options: LlmFactoryOptions = {}): IntentClassifier {
  const metrics = options.metrics ?? llmMetrics;
  // Confident rules, then the local n-gram model (flows/intent-model.json), then the LLM when configured.
  let lexicon = options.lexicon ?? null;
  const rules = options.rules ?? createLocalClassifier({ rules: createRulesClassifier((lexicon ??= loadLexicon())), model: loadModel() });
  const deps = callDeps(config, logger, metrics);
  if (!deps) {
    logger.info({ reason: 'OPENAI_API_KEY is not set' }, 'llm.disabled');
    return rules;
  }
  const guide = options.guide ?? (() => (lexicon ??= loadLexicon()).guide);
  // Rendered again only when the lexicon in force changed.
  let rendered: { from: Lexicon['guide']; text: string } | null = null;
  const intentGuide = (): string => {
    const now = guide();
    if (rendered?.from !== now) rendered = { from: now, text: renderIntentGuide(now) };
    return rendered.text;
  };
  logger.info({ model: config.OPENAI_MODEL, baseUrl: config.OPENAI_BASE_URL ?? 'https://api.openai.com/v1', timeoutMs: config.OPENAI_TIMEOUT_MS }, 'llm.enabled');
  const breaker = new CircuitBreaker({
    clock: options.clock ?? systemClock,
    onOpen: () => {
      metrics.breakerOpened += 1;
      logger.warn('llm.circuit_opened');
    },
  });
  return createCascadeClassifier({
    rules,
    llm: createLlmClassifier({ ...deps, prompt: loadPrompt(options.promptsDir ?? PROMPTS_DIR, 'classify'), intentGuide }),
    breaker,
    confident: confidentEnough,
    metrics,
  });
}

/** The LLM handoff summarizer, or null without OPENAI_API_KEY (the rule-based summary stays). */
export function createSummarizer(config: LlmConfig, logger: Logger, options: Pick<LlmFactoryOptions, 'metrics' | 'promptsDir'> = {}): HandoffSummarizer | null {
  const deps = callDeps(config, logger, options.metrics ?? llmMetrics);
  if (!deps) return null;
  const dir = options.promptsDir ?? PROMPTS_DIR;
  return createLlmSummarizer({ ...deps, prompt: loadPrompt(dir, 'summarize'), labels: loadSummaryLabels(join(dir, 'summarize-labels.yaml')) });
}
