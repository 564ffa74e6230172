import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import { ComplaintCategory, Intent } from '../core/intent.js';

/** Where the shipped lexicon lives. */
export const DEFAULT_LEXICON_PATH = join(import.meta.dirname, '../../flows/intents.yaml');

const Phrase = z.string().trim().min(1, 'an empty phrase matches everything');
const Phrases = z.array(Phrase).default([]);

const Pattern = z.string().min(1).superRefine((source, ctx) => {
  try {
    new RegExp(source, 'u');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${err instanceof Error ? err.message : String(err)}` });
  }
});
const Patterns = z.array(Pattern).default([]);

/**
 * Phrases and patterns that count together with one weight. Phrases are matched on the normalised
 * text (half-width, lower case, Simplified characters); English phrases match whole words, and a
 * trailing `*` also matches longer words (`refund*` matches "refunds"). `regex` runs on the
 * normalised text, `rawRegex` on the text as written (case matters: ALL CAPS, "!!!").
 */
export const CueGroup = z
  .object({
    weight: z.number().min(-10).max(10).default(1),
    'zh-Hans': Phrases,
    'zh-Hant': Phrases,
    en: Phrases,
    regex: Patterns,
    rawRegex: Patterns,
  })
  .strict();
export type CueGroup = z.infer<typeof CueGroup>;

const CueGroups = z.array(CueGroup).default([]);

export const Lexicon = z
  .object({
    version: z.literal(1),
    /** Per intent, weighted cue groups; `other` is also what is left when nothing matches. */
    intents: z
      .object({
        account_help: CueGroups,
        refund: CueGroups,
        complaint: CueGroups,
        order_help: CueGroups,
        /** "Where is my refund?": the status of refunds already asked for (after-sales). */
        refund_status: CueGroups,
        human: CueGroups,
        other: CueGroups,
      })
      .strict(),
    /** Cues naming a complaint category; a match also adds the group's weight to `complaint`. */
    complaintCategories: z.array(CueGroup.extend({ category: ComplaintCategory })).default([]),
    /** Anger markers: sentiment `angry`. */
    anger: CueGroups,
    /** Dissatisfaction without anger: sentiment `negative`. */
    negative: CueGroups,
    /**
     * Answers to a yes/no question: the text, or its first clause, is one of these words, optionally
     * followed only by `tail` words (particles, "thanks"). Patterns are not used here.
     */
    affirmation: z.object({ yes: CueGroup, no: CueGroup, tail: CueGroup.default(CueGroup.parse({})) }).strict(),
    /**
     * What each intent means, with a few labelled examples: the LLM classify prompt's intent guide
     * (src/llm/intent-guide.ts). The rules do not read it.
     */
    guide: z
      .partialRecord(Intent, z.object({ description: z.string().trim().min(1), examples: z.array(Phrase).max(8).default([]) }).strict())
      .default({}),
  })
  .strict();
export type Lexicon = z.infer<typeof Lexicon>;

/** The intents the lexicon scores, in the order that breaks ties. */
export const SCORED_INTENTS = ['human', 'complaint', 'refund_status', 'refund', 'account_help', 'order_help', 'other'] as const satisfies readonly Intent[];

/** Parses a lexicon document; a bad one throws an AppError that names each offending entry. */
export function parseLexicon(document: unknown, origin = 'lexicon'): Lexicon {
  const result = Lexicon.safeParse(document);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${formatPath(issue.path)}: ${issue.message}`);
  throw new AppError('validation_failed', `${origin} is invalid:\n${lines.join('\n')}`, { issues: result.error.issues });
}

/** Reads and validates a lexicon YAML file (flows/intents.yaml by default). */
export function loadLexicon(path: string = DEFAULT_LEXICON_PATH): Lexicon {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AppError('not_found', `cannot read the intent lexicon ${path}`, undefined, { cause: err });
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    throw new AppError('validation_failed', `${path} is not valid YAML: ${err instanceof Error ? err.message : String(err)}`, undefined, {
      cause: err,
    });
  }
  return parseLexicon(document, path);
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out === '' ? '' : '.'}${String(key)}`;
  return out === '' ? '(top level)' : out;
}
