import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { Locale, MAX_TEXT_LENGTH } from '../core/message.js';
import { DEFAULT_LEXICON_PATH, loadLexicon } from '../intent/lexicon.js';
import { inProcessStages, serviceModel } from '../intent/local-classifier.js';
import { loadConfig } from '../config.js';
import type { IntentClassifier } from '../core/intent.js';
import { createClassifier } from '../llm/index.js';
import { createLogger } from '../logger.js';
import type { RegisterCommands } from './index.js';

/** One input line of `kefu classify`; an `id` is echoed so callers can join the output. */
export const ClassifyInput = z.object({
  text: z.string().max(MAX_TEXT_LENGTH),
  locale: Locale.optional(),
  id: z.union([z.string(), z.number()]).optional(),
});
export type ClassifyInput = z.infer<typeof ClassifyInput>;

/** `kefu classify`: JSON lines in on stdin, one JSON line out per line in, streaming. */
export const registerClassifyCommands: RegisterCommands = (program) => {
  program
    .command('classify')
    .description('classify JSON lines {"text": ...} from stdin; writes {"intent", "confidence", "source", "slots", …} per line')
    .option('--lexicon <path>', 'intent lexicon file', DEFAULT_LEXICON_PATH)
    .action(async (opts: { lexicon: string }) => {
      // With OPENAI_API_KEY the rules → LLM cascade (source "llm" where the model answered), else the rules alone.
      const config = loadConfig();
      const rules = inProcessStages(serviceModel(config.INTENT_MODEL))(loadLexicon(opts.lexicon));
      const classifier = createClassifier(config, createLogger(config.LOG_LEVEL, process.stderr), { rules });
      const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
      for await (const line of lines) {
        const out = await classifyLine(classifier, line);
        if (!process.stdout.write(`${JSON.stringify(out)}\n`)) await once(process.stdout, 'drain');
      }
    });
};

async function classifyLine(classifier: IntentClassifier, line: string): Promise<Record<string, unknown>> {
  if (line.trim() === '') return { error: 'empty line: expected a JSON object like {"text": "..."}' };
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    return { error: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  const input = ClassifyInput.safeParse(json);
  if (!input.success) {
    const issues = input.error.issues.map((i) => `${i.path.join('.') || '(line)'}: ${i.message}`).join('; ');
    return { error: `expected {"text": string}: ${issues}` };
  }
  const { text, locale, id } = input.data;
  const result = await classifier.classify(text, { locale: locale ?? null, step: null, recentTurns: [] });
  return {
    ...(id === undefined ? {} : { id }),
    intent: result.intent,
    confidence: result.confidence,
    source: result.source,
    match: result.match,
    slots: result.slots,
    sentiment: result.sentiment,
    language: result.language,
  };
}
