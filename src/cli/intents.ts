import { join } from 'node:path';
import type { Classification } from '../core/intent.js';
import { halfOf, LABELLED_DIR, LABELLED_FILES, makeNoisy, readLabelled, type Scores, score } from '../intent/eval.js';
import { DEFAULT_LEXICON_PATH, loadLexicon } from '../intent/lexicon.js';
import { createRulesClassifier } from '../intent/rules-classifier.js';
import type { RegisterCommands } from './index.js';

interface EvalOptions {
  lexicon: string;
  data: string[];
  seed: string;
  rate: string;
  half: 'tune' | 'report' | 'all';
  json?: boolean;
}

type Stage = { name: string; classify: (text: string) => Classification };

/** `kefu intents eval`: macro recall and precision on the labelled sets, clean and pinyin-noisy. */
export const registerIntentsCommands: RegisterCommands = (program) => {
  const intents = program.command('intents').description('measure and train intent detection');
  intents
    .command('eval')
    .description('macro recall per intent and language (clean and pinyin-IME noisy) and precision per intent, on one half of the labelled sets')
    .option('--lexicon <path>', 'intent lexicon file', DEFAULT_LEXICON_PATH)
    .option('--data <files...>', 'labelled JSON-lines files', LABELLED_FILES.map((f) => join(LABELLED_DIR, f)))
    .option('--seed <n>', 'seed of the noisy copy', '20261202')
    .option('--rate <p>', 'chance that a Han character is replaced by a homophone', '0.08')
    .option('--half <half>', 'tune | report | all (split by text hash)', 'report')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: EvalOptions) => {
      const rows = readLabelled(opts.data);
      const lexicon = loadLexicon(opts.lexicon);
      const rules = createRulesClassifier(lexicon);
      const stages: Stage[] = [{ name: 'rules', classify: (t) => rules.classifySync(t, null) }];
      const picked = rows.filter((r) => opts.half === 'all' || halfOf(r.text) === opts.half);
      const zh = picked.filter((r) => r.lang !== 'en');
      const noisyTexts = makeNoisy(
        zh.map((r) => r.text),
        { seed: Number(opts.seed), rate: Number(opts.rate), corpus: rows.filter((r) => r.lang !== 'en').map((r) => r.text) },
      );
      const noisy = zh.map((r, i) => ({ ...r, text: noisyTexts[i] ?? r.text }));
      const report: Record<string, Record<string, Scores>> = {};
      for (const stage of stages) {
        const run = (set: typeof picked) => score(set.map((r) => ({ label: r.intent, predicted: stage.classify(r.text).intent })));
        report[stage.name] = {
          en: run(picked.filter((r) => r.lang === 'en')),
          zh: run(zh),
          'zh-noisy': run(noisy),
        };
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ half: opts.half, lines: picked.length, report }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`half: ${opts.half} (${picked.length} lines; noisy copy: seed ${opts.seed}, rate ${opts.rate})\n`);
      for (const [stage, sets] of Object.entries(report)) {
        process.stdout.write(`\n== ${stage}\n`);
        for (const [set, s] of Object.entries(sets)) {
          const recall = Object.entries(s.recall)
            .map(([k, v]) => `${k} ${fmt(v)}`)
            .join(', ');
          const precision = Object.entries(s.precision)
            .map(([k, v]) => `${k} ${fmt(v)}`)
            .join(', ');
          process.stdout.write(`${set.padEnd(9)} macro recall ${fmt(s.macroRecall)} (${s.lines} lines)\n  recall:    ${recall}\n  precision: ${precision}\n`);
        }
      }
    });
};

function fmt(n: number): string {
  return n.toFixed(3);
}
