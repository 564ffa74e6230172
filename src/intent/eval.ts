import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinyin } from 'pinyin-pro';
import { z } from 'zod';
import { Intent } from '../core/intent.js';

/** The labelled sets shipped with the repository (see test/fixtures/intents/README.md). */
export const LABELLED_DIR = join(import.meta.dirname, '../../test/fixtures/intents');
export const LABELLED_FILES = ['dev.jsonl', 'dev_zh_cs.jsonl'] as const;
/**
 * Examples the model is trained on but that are never scored: out-of-scope chatter (weather, the
 * time, family, greetings) labelled `other`. The fixture sets have no such Chinese lines, and
 * without them the model sent 你吃饭了吗 to orders at p 0.75. Editable data; studio labels add to it.
 */
export const TRAINING_ONLY_FILES = [join(import.meta.dirname, '../../flows/intent-examples.jsonl')] as const;

export const LabelledLine = z.object({
  text: z.string().min(1),
  intent: Intent,
  lang: z.enum(['en', 'zh-Hans', 'zh-Hant']),
});
export type LabelledLine = z.infer<typeof LabelledLine>;

/** Reads JSON-lines files of labelled utterances; a bad line names its file and number. */
export function readLabelled(paths: readonly string[]): LabelledLine[] {
  const rows: LabelledLine[] = [];
  for (const path of paths) {
    readFileSync(path, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (line.trim() === '') return;
        const parsed = LabelledLine.safeParse(JSON.parse(line));
        if (!parsed.success) throw new Error(`${path}:${i + 1}: ${parsed.error.issues.map((x) => x.message).join('; ')}`);
        rows.push(parsed.data);
      });
  }
  return rows;
}

/** FNV-1a over UTF-16 units: a stable hash, the same on every machine and run. */
export function textHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Which half a line belongs to: by the hash of its text, so adding lines never moves others. */
export function halfOf(text: string): 'tune' | 'report' {
  return textHash(text.trim()) % 2 === 0 ? 'tune' : 'report';
}

/** A small seeded PRNG (mulberry32): the noisy copy is the same on every run with the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HAN = /\p{Script=Han}/u;

/**
 * Same-sound characters, from pinyin-pro's readings (toneless): the pool a pinyin IME offers.
 * Characters seen in `corpus` come first (an IME ranks common characters first); a syllable no
 * corpus character has falls back to every CJK Unified Ideograph with that reading.
 */
export function homophoneTable(corpus: readonly string[]): { of(char: string, reading: string): string[] } {
  const bySound = new Map<string, Set<string>>();
  const add = (char: string) => {
    const reading = pinyin(char, { toneType: 'none' });
    if (!reading || !/^[a-zü]+$/.test(reading)) return;
    let set = bySound.get(reading);
    if (!set) bySound.set(reading, (set = new Set()));
    set.add(char);
  };
  for (const line of corpus) for (const char of line) if (HAN.test(char)) add(char);
  let wide: Map<string, string[]> | null = null;
  return {
    of(char, reading) {
      const common = [...(bySound.get(reading) ?? [])].filter((c) => c !== char);
      if (common.length > 0) return common;
      if (!wide) {
        wide = new Map();
        for (let code = 0x4e00; code <= 0x9fa5; code += 1) {
          const c = String.fromCharCode(code);
          const r = pinyin(c, { toneType: 'none' });
          if (!r) continue;
          const list = wide.get(r) ?? [];
          list.push(c);
          wide.set(r, list);
        }
      }
      return (wide.get(reading) ?? []).filter((c) => c !== char);
    },
  };
}

/**
 * "Typed with a pinyin IME": each Han character is replaced by another character with the same
 * toneless reading with probability `rate`, and at least one per line (when any has a homophone).
 */
export function makeNoisy(lines: readonly string[], options: { seed: number; rate: number; corpus: readonly string[] }): string[] {
  const table = homophoneTable(options.corpus);
  return lines.map((line) => {
    const random = seededRandom(options.seed ^ textHash(line));
    const items = pinyin(line, { toneType: 'none', type: 'all' });
    const chars = items.map((x) => x.origin);
    const candidates: number[] = [];
    items.forEach((item, i) => {
      if (item.isZh && table.of(item.origin, item.pinyin).length > 0) candidates.push(i);
    });
    if (candidates.length === 0) return line;
    const swap = (i: number) => {
      const item = items[i];
      if (!item) return;
      const pool = table.of(item.origin, item.pinyin);
      chars[i] = pool[Math.floor(random() * pool.length)] ?? item.origin;
    };
    let swapped = 0;
    for (const i of candidates) {
      if (random() < options.rate) {
        swap(i);
        swapped += 1;
      }
    }
    if (swapped === 0) swap(candidates[Math.floor(random() * candidates.length)] ?? 0);
    return chars.join('');
  });
}

export interface Scores {
  /** Recall per intent that has lines, and their unweighted mean. */
  recall: Partial<Record<Intent, number>>;
  macroRecall: number;
  /** Precision per intent that was predicted at least once. */
  precision: Partial<Record<Intent, number>>;
  lines: number;
}

/** Macro recall and per-intent precision of predictions against labels. */
export function score(pairs: readonly { label: Intent; predicted: Intent }[]): Scores {
  const recall: Partial<Record<Intent, number>> = {};
  const precision: Partial<Record<Intent, number>> = {};
  for (const intent of Intent.options) {
    const labelled = pairs.filter((p) => p.label === intent);
    if (labelled.length > 0) recall[intent] = labelled.filter((p) => p.predicted === intent).length / labelled.length;
    const predicted = pairs.filter((p) => p.predicted === intent);
    if (predicted.length > 0) precision[intent] = predicted.filter((p) => p.label === intent).length / predicted.length;
  }
  const values = Object.values(recall);
  return { recall, precision, macroRecall: values.reduce((a, b) => a + b, 0) / Math.max(1, values.length), lines: pairs.length };
}
