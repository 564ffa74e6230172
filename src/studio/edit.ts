import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { AppError } from '../core/errors.js';
import type { Intent } from '../core/intent.js';
import type { Locale } from '../core/message.js';

const LOCALES = ['zh-Hans', 'zh-Hant', 'en'] as const;

function load(text: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new AppError('validation_failed', `The document is not valid YAML: ${doc.errors[0]?.message ?? ''}`);
  return doc;
}

/** One text of a flow step in every locale, for the form view. */
export interface StepWording {
  step: string;
  kind: string;
  /** `text`, `invalid`, `option <id>` */
  field: string;
  path: (string | number)[];
  texts: Partial<Record<Locale, string>>;
}

/** Every wording of every step of a flow document, in document order. */
export function stepWordings(text: string): StepWording[] {
  const doc = load(text);
  const steps = doc.get('steps', true);
  if (!isMap(steps)) return [];
  const out: StepWording[] = [];
  const read = (node: unknown): Partial<Record<Locale, string>> | null => {
    if (!isMap(node)) return null;
    const texts: Partial<Record<Locale, string>> = {};
    for (const l of LOCALES) {
      const v = node.get(l);
      if (typeof v === 'string') texts[l] = v;
    }
    return texts;
  };
  for (const pair of steps.items) {
    const step = String(pair.key instanceof Object && 'value' in pair.key ? pair.key.value : pair.key);
    const body = pair.value;
    if (!isMap(body)) continue;
    const kind = String(body.get('kind') ?? '');
    for (const field of ['text', 'invalid'] as const) {
      const texts = read(body.get(field, true));
      if (texts) out.push({ step, kind, field, path: ['steps', step, field], texts });
    }
    const options = body.get('options', true);
    if (isSeq(options)) {
      options.items.forEach((item, i) => {
        if (!isMap(item)) return;
        const texts = read(item.get('label', true));
        if (texts) out.push({ step, kind, field: `option ${String(item.get('id'))}`, path: ['steps', step, 'options', i, 'label'], texts });
      });
    }
  }
  return out;
}

/** Sets the wording at a path in each given locale, keeping the rest of the YAML (comments, anchors) as it is. */
export function setWording(text: string, path: readonly (string | number)[], texts: Partial<Record<Locale, string>>): string {
  const doc = load(text);
  const node = doc.getIn(path, true);
  if (!isMap(node)) throw new AppError('not_found', `No wording at ${path.join('.')}`);
  for (const l of LOCALES) {
    const v = texts[l];
    if (v !== undefined) node.set(l, v);
  }
  return doc.toString({ lineWidth: 0 });
}

/** Adds a phrase to the first cue group of an intent in the lexicon, in one locale. */
export function addLexiconPhrase(text: string, intent: Intent, locale: Locale, phrase: string): string {
  const doc = load(text);
  const groups = doc.getIn(['intents', intent], true);
  if (!isSeq(groups) || !isMap(groups.items[0])) throw new AppError('not_found', `The lexicon has no cue group for ${intent}`);
  const group = groups.items[0];
  const list = group.get(locale, true);
  if (isSeq(list)) {
    if (list.items.some((i) => String(i instanceof Object && 'value' in i ? i.value : i) === phrase)) return text;
    list.add(doc.createNode(phrase));
  } else group.set(locale, doc.createNode([phrase]));
  return doc.toString({ lineWidth: 0 });
}
