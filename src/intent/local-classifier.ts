import type { Classification, ClassifyContext, Intent, IntentClassifier } from '../core/intent.js';
import type { Lexicon } from './lexicon.js';
import { DEFAULT_MODEL_PATH, loadModel, type NgramModel } from './ngram-model.js';
import { confidentEnough, createRulesClassifier, normaliseText } from './rules-classifier.js';

/** Below this the model's answer is not used: the rules' answer (or the LLM, when configured) stands. */
export const MODEL_MIN_PROBABILITY = 0.6;
// What the model may add: requests the lexicon has no words for. Not complaints: a review without
// any complaint cue is mostly praise, and the model (trained on few lines) calls too many of those complaints.
const MODEL_INTENTS: readonly Intent[] = ['refund', 'account_help', 'order_help', 'human'];

export interface LocalClassifierOptions {
  rules: { classifySync(text: string, context?: ClassifyContext | null): Classification };
  /** The trained n-gram model; null skips the stage (no artefact). */
  model: NgramModel | null;
  /** Below this the model's answer is not used (default MODEL_MIN_PROBABILITY). */
  minProbability?: number;
}

/** The model the service runs: INTENT_MODEL (a path, or `off`), by default the shipped artefact. */
export function serviceModel(setting: string | undefined): NgramModel | null {
  if (setting === 'off') return null;
  return loadModel(setting ?? DEFAULT_MODEL_PATH);
}

/** How the service builds its in-process stages from a lexicon (the studio swaps the lexicon; the model stays). */
export function inProcessStages(model: NgramModel | null): (lexicon: Lexicon) => IntentClassifier {
  return (lexicon) => createLocalClassifier({ rules: createRulesClassifier(lexicon), model });
}

/**
 * The in-process stages: confident rules answer alone; otherwise the n-gram model's answer when it
 * is at least fairly sure (its probability is the confidence, so the LLM cascade still asks the
 * LLM below `confidentEnough`). Slots, sentiment and language always come from the rules.
 */
export function createLocalClassifier(options: LocalClassifierOptions): IntentClassifier & { classifySync(text: string, context?: ClassifyContext | null): Classification } {
  const { rules, model } = options;
  const minProbability = options.minProbability ?? MODEL_MIN_PROBABILITY;
  const classifySync = (text: string, context: ClassifyContext | null = null): Classification => {
    const ruled = rules.classifySync(text, context);
    // The model only speaks where the rules found nothing to go on: where they did find a cue,
    // the tune half showed the model overruling them costs more (reviews taken for complaints) than it gains.
    // English out-of-scope questions (banking small talk) drew it to account/order answers; the
    // English lexicon alone measured better, so the model serves Chinese text only.
    if (!model || confidentEnough(ruled) || ruled.intent !== 'other' || ruled.match !== null || ruled.language === 'en') return ruled;
    const [top] = model.predict(normaliseText(text));
    if (!top || !MODEL_INTENTS.includes(top.intent) || top.probability < minProbability || top.probability <= ruled.confidence) return ruled;
    return {
      ...ruled,
      intent: top.intent,
      confidence: Math.round(top.probability * 1000) / 1000,
      slots: { ...ruled.slots, complaintCategory: top.intent === 'complaint' ? ruled.slots.complaintCategory : null },
      source: 'model',
      match: null,
    };
  };
  return { classifySync, classify: async (text, context) => classifySync(text, context) };
}
