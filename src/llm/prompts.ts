import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { AppError } from '../core/errors.js';

/** The prompt files kefu renders (prompts/<name>.md). */
export const PromptName = z.enum(['classify', 'summarize']);
export type PromptName = z.infer<typeof PromptName>;

/** The variables the code supplies to each prompt. */
export const PROMPT_VARIABLES = {
  classify: ['intents', 'intent_guide', 'complaint_categories', 'step', 'recent_turns', 'hints', 'message'],
  summarize: ['output_language', 'reason', 'case', 'slots', 'orders', 'transcript', 'rule_summary'],
} as const satisfies Record<PromptName, readonly string[]>;

export const PromptFrontMatter = z.object({
  description: z.string().min(1),
  variables: z.array(z.object({ name: z.string().regex(/^[a-z_]+$/), description: z.string().min(1) })),
});
export type PromptFrontMatter = z.infer<typeof PromptFrontMatter>;

/** A parsed prompt file: a system part and a user part with `{{variable}}` placeholders. */
export interface PromptTemplate {
  name: PromptName;
  variables: string[];
  system: string;
  user: string;
}

const FRONT_MATTER = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/;
const SECTION = /^## (system|user)[ \t]*$/gm;
const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;

/** Parses the text of prompts/<name>.md, or throws an AppError listing what is wrong. */
export function parsePrompt(name: PromptName, source: string): PromptTemplate {
  const problems = promptProblems(name, source);
  if (problems.length > 0) throw new AppError('validation_failed', `prompts/${name}.md: ${problems.join('; ')}`, { problems });
  const { front, system, user } = splitPrompt(source);
  return { name, variables: (front?.variables ?? []).map((v) => v.name), system: system ?? '', user: user ?? '' };
}

/** Loads prompts/<name>.md from a prompts directory. */
export function loadPrompt(dir: string, name: PromptName): PromptTemplate {
  const path = join(dir, `${name}.md`);
  if (!existsSync(path)) throw new AppError('not_found', `prompts/${name}.md is missing`);
  return parsePrompt(name, readFileSync(path, 'utf8').replace(/\r\n/g, '\n'));
}

/** Fills a template's placeholders; every declared variable must be supplied. */
export function renderPrompt(template: PromptTemplate, values: Record<string, string>): { system: string; user: string } {
  const missing = template.variables.filter((v) => values[v] === undefined);
  if (missing.length > 0) throw new AppError('internal', `prompt ${template.name}: missing variables ${missing.join(', ')}`);
  // One pass, so a value that itself contains "{{x}}" (consumer text) is never expanded.
  const fill = (text: string) => text.replace(PLACEHOLDER, (_m, key: string) => values[key] ?? '');
  return { system: fill(template.system).trim(), user: fill(template.user).trim() };
}

/**
 * Checks every prompt file in a directory against the variables the code supplies: front matter
 * valid, both sections present, each placeholder declared, each declared variable used and
 * supplied. Returns human-readable problems (empty when all is well); `kefu flows check` prints them.
 */
export function checkPromptVariables(dir: string): string[] {
  const problems: string[] = [];
  for (const name of PromptName.options) {
    const path = join(dir, `${name}.md`);
    if (!existsSync(path)) {
      problems.push(`prompts/${name}.md: missing`);
      continue;
    }
    for (const p of promptProblems(name, readFileSync(path, 'utf8').replace(/\r\n/g, '\n'))) problems.push(`prompts/${name}.md: ${p}`);
  }
  return problems;
}

function promptProblems(name: PromptName, source: string): string[] {
  const problems: string[] = [];
  const { front, frontError, system, user } = splitPrompt(source);
  if (frontError) return [frontError];
  if (!front) return ['front matter (--- description, variables ---) is missing'];
  if (system === null) problems.push('no "## system" section');
  if (user === null) problems.push('no "## user" section');
  const declared = front.variables.map((v) => v.name);
  const used = new Set([...`${system ?? ''}\n${user ?? ''}`.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ''));
  const supplied: readonly string[] = PROMPT_VARIABLES[name];
  for (const v of used) if (!declared.includes(v)) problems.push(`{{${v}}} is used but not declared in the front matter`);
  for (const v of declared) {
    if (!used.has(v)) problems.push(`variable "${v}" is declared but never used`);
    if (!supplied.includes(v)) problems.push(`variable "${v}" is not one kefu supplies (${supplied.join(', ')})`);
  }
  for (const v of supplied) if (!declared.includes(v)) problems.push(`variable "${v}" must be declared and used`);
  return problems;
}

function splitPrompt(source: string): {
  front: PromptFrontMatter | null;
  frontError: string | null;
  system: string | null;
  user: string | null;
} {
  const match = FRONT_MATTER.exec(source);
  if (!match) return { front: null, frontError: null, system: null, user: null };
  let front: PromptFrontMatter;
  try {
    const parsed = PromptFrontMatter.safeParse(parse(match[1] ?? ''));
    if (!parsed.success) {
      return { front: null, frontError: `front matter: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join(', ')}`, system: null, user: null };
    }
    front = parsed.data;
  } catch (err) {
    return { front: null, frontError: `front matter is not YAML: ${err instanceof Error ? err.message : String(err)}`, system: null, user: null };
  }
  const body = match[2] ?? '';
  const sections: Record<string, string> = {};
  const marks = [...body.matchAll(SECTION)];
  marks.forEach((m, i) => {
    const start = (m.index ?? 0) + m[0].length;
    const end = marks[i + 1]?.index ?? body.length;
    sections[m[1] ?? ''] = body.slice(start, end);
  });
  return { front, frontError: null, system: sections.system ?? null, user: sections.user ?? null };
}
