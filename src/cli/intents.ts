import { join } from 'node:path';
import type { Classification } from '../core/intent.js';
import { halfOf, LABELLED_DIR, LABELLED_FILES, LabelledLine, makeNoisy, readLabelled, type Scores, score, TRAINING_ONLY_FILES } from '../intent/eval.js';
import { DEFAULT_LEXICON_PATH, loadLexicon } from '../intent/lexicon.js';
import { existsSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../config.js';
import { type Db, migrateDatabase, openDatabase } from '../db/client.js';
import { studioLabels } from '../db/schema.js';
import { createLocalClassifier } from '../intent/local-classifier.js';
import { createNgramModel, DEFAULT_MODEL_PATH, trainModel } from '../intent/ngram-model.js';
import { createRulesClassifier, normaliseText } from '../intent/rules-classifier.js';
import type { RegisterCommands } from './index.js';

interface EvalOptions {
  lexicon: string;
  data: string[];
  trainingOnly: string[];
  outOfScope: string[];
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
    .option('--training-only <files...>', 'labelled files the model also learns from but that are never scored', [...TRAINING_ONLY_FILES])
    .option('--out-of-scope <files...>', 'held-out chatter that should reach no flow (scored as the share left as other)', [join(LABELLED_DIR, 'out-of-scope-zh.jsonl')])
    .option('--seed <n>', 'seed of the noisy copy', '20261202')
    .option('--rate <p>', 'chance that a Han character is replaced by a homophone', '0.08')
    .option('--half <half>', 'tune | report | all (split by text hash)', 'report')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: EvalOptions) => {
      const rows = readLabelled(opts.data);
      const lexicon = loadLexicon(opts.lexicon);
      const rules = createRulesClassifier(lexicon);
      // The model is trained here on the tune half only, so the report half stays unseen.
      const trainingRows = [...rows.filter((r) => halfOf(r.text) === 'tune'), ...readLabelled(opts.trainingOnly)];
      const model = createNgramModel(trainModel(trainingRows.map((r) => ({ normalised: normaliseText(r.text), intent: r.intent }))));
      const outOfScope = readLabelled(opts.outOfScope.filter((f) => existsSync(f)));
      const local = createLocalClassifier({ rules, model });
      const stages: Stage[] = [
        { name: 'rules', classify: (t) => rules.classifySync(t, null) },
        { name: 'model alone (trained on the tune half)', classify: (t) => ({ ...rules.classifySync(t, null), intent: model.predict(normaliseText(t))[0]?.intent ?? 'other' }) },
        { name: 'rules -> model (the local cascade)', classify: (t) => local.classifySync(t, null) },
      ];
      const picked = rows.filter((r) => opts.half === 'all' || halfOf(r.text) === opts.half);
      const zh = picked.filter((r) => r.lang !== 'en');
      const noisyTexts = makeNoisy(
        zh.map((r) => r.text),
        { seed: Number(opts.seed), rate: Number(opts.rate), corpus: rows.filter((r) => r.lang !== 'en').map((r) => r.text) },
      );
      const noisy = zh.map((r, i) => ({ ...r, text: noisyTexts[i] ?? r.text }));
      const report: Record<string, Record<string, Scores>> = {};
      // Out of scope: the share of held-out chatter each stage leaves as `other` (the menu), not a flow.
      const leftAsOther: Record<string, number> = {};
      for (const stage of stages) {
        const run = (set: typeof picked) => score(set.map((r) => ({ label: r.intent, predicted: stage.classify(r.text).intent })));
        report[stage.name] = {
          en: run(picked.filter((r) => r.lang === 'en')),
          zh: run(zh),
          'zh-noisy': run(noisy),
        };
        if (outOfScope.length > 0) leftAsOther[stage.name] = outOfScope.filter((r) => stage.classify(r.text).intent === 'other').length / outOfScope.length;
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ half: opts.half, lines: picked.length, report, outOfScope: { lines: outOfScope.length, leftAsOther } }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`half: ${opts.half} (${picked.length} lines; noisy copy: seed ${opts.seed}, rate ${opts.rate})\n`);
      for (const [stage, sets] of Object.entries(report)) {
        process.stdout.write(`\n== ${stage}\n`);
        if (stage in leftAsOther) process.stdout.write(`out of scope: ${fmt(leftAsOther[stage] ?? 0)} of ${outOfScope.length} held-out chatter lines left as other\n`);
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

export const registerIntentsTrainCommand: RegisterCommands = (program) => {
  const intents = program.commands.find((c) => c.name() === 'intents');
  if (!intents) return;
  intents
    .command('train')
    .description('train the local n-gram intent model on the labelled sets and write its artefact')
    .option('--data <files...>', 'labelled JSON-lines files', LABELLED_FILES.map((f) => join(LABELLED_DIR, f)))
    .option('--training-only <files...>', 'labelled files learnt from in full (out-of-scope chatter)', [...TRAINING_ONLY_FILES])
    .option('--half <half>', 'all | tune (tune: leave the report half of --data out)', 'all')
    .option('--studio-labels', "also learn from the utterances editors labelled in the studio (the configured database's)")
    .option('--out <path>', 'artefact file', DEFAULT_MODEL_PATH)
    .action(async (opts: { data: string[]; trainingOnly: string[]; half: 'all' | 'tune'; studioLabels?: boolean; out: string }) => {
      let rows: LabelledLine[] = [...readLabelled(opts.data).filter((r) => opts.half === 'all' || halfOf(r.text) === 'tune'), ...readLabelled(opts.trainingOnly)];
      const files = [...opts.data, ...opts.trainingOnly].map((f) => f.split('/').slice(-1)[0] ?? f);
      if (opts.studioLabels) {
        const labelled = await readStudioLabels();
        rows = withStudioLabels(rows, labelled);
        files.push(`studio labels (${labelled.length})`);
      }
      const started = performance.now();
      const artefact = trainModel(
        rows.map((r) => ({ normalised: normaliseText(r.text), intent: r.intent })),
        { files, half: opts.half },
      );
      writeFileSync(opts.out, `${JSON.stringify(artefact)}\n`);
      process.stdout.write(`trained on ${rows.length} lines in ${Math.round(performance.now() - started)} ms; wrote ${opts.out}\n`);
    });
};

/** The utterances editors labelled in the studio (the not-understood list), as training lines. */
export async function studioLabelled(db: Db): Promise<LabelledLine[]> {
  const rows = await db.select({ text: studioLabels.text, intent: studioLabels.intent, lang: studioLabels.lang }).from(studioLabels);
  return rows.flatMap((r) => {
    const line = LabelledLine.safeParse({ ...r, lang: r.lang === 'en' || r.lang === 'zh-Hant' ? r.lang : 'zh-Hans' });
    return line.success ? [line.data] : [];
  });
}

/** Training lines: the shipped ones, with an editor's label overriding a shipped one for the same text. */
export function withStudioLabels(shipped: readonly LabelledLine[], labelled: readonly LabelledLine[]): LabelledLine[] {
  const relabelled = new Set(labelled.map((l) => l.text));
  return [...shipped.filter((r) => !relabelled.has(r.text)), ...labelled];
}

/** The studio's labels from the configured database (DATABASE_URL). */
async function readStudioLabels(): Promise<LabelledLine[]> {
  const database = await openDatabase(loadConfig().database);
  try {
    await migrateDatabase(database);
    return await studioLabelled(database.db);
  } finally {
    await database.close();
  }
}

function fmt(n: number): string {
  return n.toFixed(3);
}
