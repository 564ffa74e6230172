import { Intent, type IntentCandidate } from '../core/intent.js';
import type { Lexicon } from '../intent/lexicon.js';

/**
 * The intent list of the classify prompt, from the lexicon's `guide` (flows/intents.yaml): each
 * intent with its description and examples. Rendered once per lexicon, not per message.
 */
export function renderIntentGuide(guide: Lexicon['guide']): string {
  return Intent.options
    .map((intent) => {
      const entry = guide[intent];
      if (!entry) return `- ${intent}`;
      const examples = entry.examples.length > 0 ? `\n  Examples: ${entry.examples.map((e) => JSON.stringify(e)).join(', ')}` : '';
      return `- ${intent}: ${entry.description}${examples}`;
    })
    .join('\n');
}

/**
 * The rules' candidates as the prompt's hints: intent, the lexicon phrase, what the text had in its
 * place and how far apart they are (0 = as written). An empty list when the rules found no cue.
 */
export function renderHints(candidates: readonly IntentCandidate[] | undefined): IntentCandidate[] {
  return (candidates ?? []).map((c) => ({ intent: c.intent, phrase: c.phrase, found: c.found, distance: c.distance, kind: c.kind }));
}
