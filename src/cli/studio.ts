import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { createActionDeps } from '../actions/create-action-deps.js';
import { loadConfig } from '../config.js';
import { AppError } from '../core/errors.js';
import { systemClock } from '../core/ports.js';
import { type Database, migrateDatabase, openDatabase } from '../db/client.js';
import { FlowLibrary } from '../engine/flow-library.js';
import { loadFlows } from '../engine/load-flows.js';
import { loadLexicon } from '../intent/lexicon.js';
import { inProcessStages, serviceModel } from '../intent/local-classifier.js';
import { silentLogger } from '../logger.js';
import { FLOWS_DIR } from '../paths.js';
import { readBaseline } from '../studio/documents.js';
import { dryRunActions } from '../studio/sandbox.js';
import { describeProblem, Studio, SwappableClassifier } from '../studio/studio.js';
import type { RegisterCommands } from './index.js';

/** A studio over an open database, for commands (it follows no publishes: it only reads and stages). */
function offlineStudio(database: Database): Studio {
  const config = loadConfig();
  return new Studio({
    database,
    clock: systemClock,
    logger: silentLogger,
    actions: dryRunActions(createActionDeps(config, silentLogger)),
    library: new FlowLibrary(loadFlows(FLOWS_DIR)),
    rules: new SwappableClassifier(loadLexicon(), inProcessStages(serviceModel(config.INTENT_MODEL))),
    fourEyes: config.STUDIO_FOUR_EYES,
  });
}

/** Writes the documents in force (published over baseline) as files under `dir`: flows/, prompts/, transcripts/. */
export async function studioExport(studio: Studio, dir: string): Promise<string[]> {
  const texts = await studio.publishedTexts();
  for (const [id, text] of texts) {
    const path = join(dir, id);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return [...texts.keys()];
}

/** Reads flows/, prompts/ and transcripts/ under `dir`, validates them with every other draft, and stages the changed ones as drafts. */
export async function studioImport(studio: Studio, dir: string, comment: string): Promise<string[]> {
  const files = readBaseline({ flows: join(dir, 'flows'), prompts: join(dir, 'prompts'), transcripts: join(dir, 'transcripts') });
  if (files.size === 0) throw new AppError('not_found', `no flows/, prompts/ or transcripts/ files under ${dir}`);
  const { staged, problems } = await studio.importDrafts(files, null, comment);
  if (problems.length > 0) throw new AppError('validation_failed', `nothing staged; ${problems.length} problem(s):\n${problems.map(describeProblem).join('\n')}`, { problems });
  return staged;
}

async function withStudio<T>(fn: (studio: Studio) => Promise<T>): Promise<T> {
  const database = await openDatabase(loadConfig().database);
  try {
    await migrateDatabase(database);
    return await fn(offlineStudio(database));
  } finally {
    await database.close();
  }
}

/** `kefu studio export <dir>` and `kefu studio import <dir>`. */
export const registerStudioCommands: RegisterCommands = (program: Command) => {
  const studio = program.command('studio').description('platform studio documents as files (for review in git)');
  studio
    .command('export <dir>')
    .description('write the published version of every document (or its baseline) under <dir>')
    .action(async (dir: string) => {
      const ids = await withStudio((s) => studioExport(s, dir));
      process.stdout.write(`${ids.length} documents written to ${dir}\n`);
    });
  studio
    .command('import <dir>')
    .description('validate the files under <dir> and stage the changed ones as drafts (publish them in the studio)')
    .option('--comment <text>', 'comment stored with each draft', 'imported')
    .action(async (dir: string, opts: { comment: string }) => {
      const staged = await withStudio((s) => studioImport(s, dir, opts.comment));
      process.stdout.write(staged.length === 0 ? 'nothing changed\n' : `${staged.length} draft(s) staged: ${staged.join(', ')}\n`);
    });
};
