import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { Intent } from '../core/intent.js';
import type { Lexicon } from '../intent/lexicon.js';
import { createRulesClassifier } from '../intent/rules-classifier.js';

/** One labelled utterance: what a consumer wrote and the intent it means. */
export const LabelledExample = z.object({ text: z.string().min(1), intent: Intent, lang: z.string().default('zh-Hans') });
export type LabelledExample = z.infer<typeof LabelledExample>;

/** The shipped labelled set (1,000 utterances, see its README). */
export const SHIPPED_EXAMPLES_PATH = join(import.meta.dirname, '../../test/fixtures/intents/dev.jsonl');

/** Reads a JSON-lines labelled set; lines that do not parse are skipped. */
export function readLabelledSet(path: string = SHIPPED_EXAMPLES_PATH): LabelledExample[] {
  if (!existsSync(path)) return [];
  const out: LabelledExample[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = LabelledExample.safeParse(JSON.parse(line));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // A broken line is data damage, not a reason to stop scoring the rest.
    }
  }
  return out;
}

/** Accuracy of a lexicon on a labelled set: overall and per intent (share of each intent's examples it gets right). */
export interface LexiconScore {
  total: number;
  correct: number;
  accuracy: number;
  perIntent: Record<Intent, { total: number; correct: number; accuracy: number }>;
}

export function scoreLexicon(lexicon: Lexicon, examples: readonly LabelledExample[]): LexiconScore {
  const rules = createRulesClassifier(lexicon);
  const zero = () => ({ total: 0, correct: 0, accuracy: 0 });
  const perIntent: LexiconScore['perIntent'] = { account_help: zero(), refund: zero(), complaint: zero(), order_help: zero(), human: zero(), other: zero(), refund_status: zero() };
  let correct = 0;
  for (const ex of examples) {
    const got = rules.classifySync(ex.text).intent;
    const bucket = perIntent[ex.intent];
    bucket.total += 1;
    if (got === ex.intent) {
      bucket.correct += 1;
      correct += 1;
    }
  }
  for (const b of Object.values(perIntent)) b.accuracy = b.total === 0 ? 0 : b.correct / b.total;
  return { total: examples.length, correct, accuracy: examples.length === 0 ? 0 : correct / examples.length, perIntent };
}
