import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { FLOWS_DIR, PROMPTS_DIR } from '../paths.js';

/** What a studio document is, which decides how it is validated and where it takes effect. */
export const DocumentKind = z.enum(['flow', 'globals', 'lexicon', 'wording', 'prompt', 'transcript']);
export type DocumentKind = z.infer<typeof DocumentKind>;

/** A document id is its path as shipped: `flows/refund.yaml`, `prompts/classify.md`, `transcripts/refund-happy.zh-Hans.yaml`. */
export const DocumentId = z.string().regex(/^(flows|prompts|transcripts)\/[a-z0-9][a-zA-Z0-9_.-]*\.(yaml|md)$/, 'a document id like flows/refund.yaml');
export type DocumentId = z.infer<typeof DocumentId>;

/** Where the baseline files are: the directories shipped with the code. */
export interface BaselineDirs {
  flows: string;
  prompts: string;
  transcripts: string;
}

export const DEFAULT_BASELINE: BaselineDirs = {
  flows: FLOWS_DIR,
  prompts: PROMPTS_DIR,
  // Golden transcripts ship with the test suite, which replays them through the whole pipeline.
  transcripts: join(import.meta.dirname, '../../test/fixtures/transcripts'),
};

/** The kind of a document, from its id. */
export function kindOf(id: string): DocumentKind {
  if (id.startsWith('transcripts/')) return 'transcript';
  if (id.startsWith('prompts/')) return id.endsWith('.md') ? 'prompt' : 'wording';
  if (id === 'flows/global.yaml') return 'globals';
  if (id === 'flows/intents.yaml') return 'lexicon';
  if (id === 'flows/handoff-messages.yaml') return 'wording';
  return 'flow';
}

/** The flow a golden transcript belongs to: the file name up to the first `-` or `.` (`refund-happy.en.yaml` → refund). */
export function transcriptFlow(id: string): string {
  const file = id.slice('transcripts/'.length);
  return file.split(/[-.]/)[0] ?? file;
}

/** The file name inside its folder. */
export function fileOf(id: string): string {
  return id.slice(id.indexOf('/') + 1);
}

/** Reads every baseline document: id → text. Generated files (the flow JSON Schema) are not documents. */
export function readBaseline(dirs: BaselineDirs = DEFAULT_BASELINE): Map<string, string> {
  const out = new Map<string, string>();
  const add = (folder: keyof BaselineDirs, dir: string, accept: (f: string) => boolean) => {
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir).filter(accept).sort()) out.set(`${folder}/${f}`, readFileSync(join(dir, f), 'utf8').replace(/\r\n/g, '\n'));
  };
  add('flows', dirs.flows, (f) => f.endsWith('.yaml'));
  add('prompts', dirs.prompts, (f) => f.endsWith('.yaml') || f.endsWith('.md'));
  add('transcripts', dirs.transcripts, (f) => f.endsWith('.yaml'));
  return out;
}
