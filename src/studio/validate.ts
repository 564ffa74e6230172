import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import { type ActionCatalogue, checkFlowSet } from '../engine/check-flows.js';
import { parseFlowFiles } from '../engine/load-flows.js';
import { parseLexicon } from '../intent/lexicon.js';
import { parsePrompt, PromptName } from '../llm/prompts.js';
import { HandoffMessages } from '../console/wording.js';
import { fileOf, kindOf } from './documents.js';
import { Transcript } from './transcript.js';

/** A problem in a studio document, at a line when one can be named. */
export const StudioProblem = z.object({
  documentId: z.string(),
  path: z.string(),
  line: z.number().int().nullable(),
  message: z.string(),
});
export type StudioProblem = z.infer<typeof StudioProblem>;

const LOCALES = ['zh-Hans', 'zh-Hant', 'en'] as const;

/**
 * Validates a whole set of documents (id → text) with the same schemas and checks as
 * `kefu flows check`: flows and globals together (dangling steps, unknown actions, translations,
 * template variables), the lexicon, prompts against the variables the code supplies, wording
 * (every locale present) and golden transcripts.
 */
export function validateDocuments(texts: ReadonlyMap<string, string>, actions: ActionCatalogue): StudioProblem[] {
  const problems: StudioProblem[] = [];
  const flowEntries = [...texts].filter(([id]) => id.startsWith('flows/')).map(([id, text]) => ({ file: fileOf(id), text }));
  const read = parseFlowFiles(flowEntries);
  for (const p of checkFlowSet(read, actions).problems) {
    const documentId = `flows/${p.file}`;
    problems.push({ documentId, path: p.path, line: lineOf(texts.get(documentId) ?? '', p.path), message: p.message });
  }
  for (const [id, text] of texts) {
    switch (kindOf(id)) {
      case 'flow':
      case 'globals':
        break;
      case 'lexicon':
        problems.push(...checkYaml(id, text, (doc) => parseLexicon(doc, id)));
        break;
      case 'prompt':
        problems.push(...checkPrompt(id, text));
        break;
      case 'wording':
        problems.push(...checkWording(id, text));
        break;
      case 'transcript':
        problems.push(...checkYaml(id, text, (doc) => Transcript.parse(doc)));
        break;
    }
  }
  return problems;
}

/** Parses YAML and runs a zod-based parser; zod issues and YAML errors come back at their line. */
function checkYaml(id: string, text: string, parse: (doc: unknown) => unknown): StudioProblem[] {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  if (doc.errors.length > 0) {
    return doc.errors.map((e) => ({ documentId: id, path: '(file)', line: e.linePos?.[0].line ?? null, message: `not valid YAML: ${e.message.split('\n')[0] ?? ''}` }));
  }
  try {
    parse(doc.toJS());
    return [];
  } catch (err) {
    const issues = zodIssues(err);
    if (issues.length === 0) return [{ documentId: id, path: '(file)', line: null, message: err instanceof Error ? err.message : String(err) }];
    return issues.map((issue) => {
      const path = issue.path.map(String).join('.') || '(root)';
      return { documentId: id, path, line: lineOf(text, path), message: issue.message };
    });
  }
}

function zodIssues(err: unknown): { path: PropertyKey[]; message: string }[] {
  if (err instanceof z.ZodError) return err.issues;
  if (err instanceof AppError) {
    const parsed = z.object({ issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })) }).safeParse(err.details);
    if (parsed.success) return parsed.data.issues;
  }
  return [];
}

function checkPrompt(id: string, text: string): StudioProblem[] {
  const name = PromptName.safeParse(fileOf(id).replace(/\.md$/, ''));
  if (!name.success) return [];
  try {
    parsePrompt(name.data, text);
    return [];
  } catch (err) {
    const details = z.object({ problems: z.array(z.string()) }).safeParse(err instanceof AppError ? err.details : null);
    const messages = details.success ? details.data.problems : [err instanceof Error ? err.message : String(err)];
    return messages.map((message) => ({ documentId: id, path: '(prompt)', line: lineMentioning(text, message), message }));
  }
}

/** The first line that shows what a prompt problem names (`{{x}}` or `"x"`), else the front matter. */
function lineMentioning(text: string, message: string): number {
  const lines = text.split('\n');
  const placeholder = /\{\{(\w+)\}\}/.exec(message)?.[1];
  const quoted = /"(\w+)"/.exec(message)?.[1];
  const section = /"## (system|user)"/.exec(message);
  if (placeholder) {
    const i = lines.findIndex((l) => new RegExp(`\\{\\{\\s*${placeholder}\\s*\\}\\}`).test(l));
    if (i >= 0) return i + 1;
  }
  if (quoted && !section) {
    const i = lines.findIndex((l) => l.includes(`name: ${quoted}`));
    if (i >= 0) return i + 1;
  }
  return 1;
}

/** Wording files: valid YAML, every text present in all three locales (and the handoff texts' own schema). */
function checkWording(id: string, text: string): StudioProblem[] {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  if (doc.errors.length > 0) return checkYaml(id, text, () => null);
  const problems: StudioProblem[] = [];
  const walk = (node: unknown, path: string[]) => {
    if (!isMap(node)) return;
    const keys = node.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ''));
    if (keys.some((k) => (LOCALES as readonly string[]).includes(k))) {
      const missing = LOCALES.filter((l) => !keys.includes(l));
      if (missing.length > 0) {
        const line = node.range ? counter.linePos(node.range[0]).line : null;
        problems.push({ documentId: id, path: path.join('.') || '(root)', line, message: `missing translation: ${missing.join(', ')}` });
      }
      return;
    }
    for (const pair of node.items) walk(pair.value, [...path, isScalar(pair.key) ? String(pair.key.value) : '?']);
  };
  walk(doc.contents, []);
  if (id === 'flows/handoff-messages.yaml' && problems.length === 0) problems.push(...checkYaml(id, text, (d) => HandoffMessages.parse(d)));
  return problems;
}

/**
 * The line of a dotted path inside a YAML text (`steps.confirm.text (zh-Hans)`, `steps.pick.options`,
 * `intents.refund.0.en.2`): the deepest node that exists, so a problem below it points near it.
 */
export function lineOf(text: string, path: string): number | null {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  const locale = /\((zh-Hans|zh-Hant|en)\)$/.exec(path)?.[1];
  const segments = path
    .replace(/ \((zh-Hans|zh-Hant|en)\)$/, '')
    .split('.')
    .filter((s) => s !== '' && !s.startsWith('('));
  if (locale) segments.push(locale);
  let node: unknown = doc.contents;
  let line: number | null = null;
  const lineAt = (n: Node | null | undefined) => (n?.range ? counter.linePos(n.range[0]).line : null);
  for (const raw of segments) {
    // check-flows names options as "option <id>".
    const option = /^option (.+)$/.exec(raw);
    if (option && isMap(node)) {
      const list = node.get('options', true);
      const found = isSeq(list) ? list.items.find((item) => isMap(item) && item.get('id') === option[1]) : undefined;
      if (!isMap(found)) break;
      node = found;
      line = lineAt(found) ?? line;
      continue;
    }
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === raw);
      if (!pair) break;
      line = (isScalar(pair.key) ? lineAt(pair.key) : null) ?? line;
      node = pair.value;
    } else if (isSeq(node) && /^\d+$/.test(raw)) {
      const item = node.items[Number(raw)];
      if (!item) break;
      line = (isScalar(item) || isMap(item) || isSeq(item) ? lineAt(item) : null) ?? line;
      node = item;
    } else break;
  }
  return line ?? (segments.length === 0 ? 1 : null);
}
