import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { Intent } from '../core/intent.js';
import { createSoundMapper } from './fuzzy.js';
import { seededRandom, textHash } from './eval.js';

/**
 * The local model: multinomial logistic regression over hashed character 1–3-grams of the
 * normalised text and of its sound form (each Han character replaced by a stand-in for its
 * toneless reading, so an IME's wrong homophone still hits the same features), plus whole Latin
 * words. Trained by `kefu intents train`, stored as a versioned JSON artefact, loaded in ms.
 */
export const DEFAULT_MODEL_PATH = join(import.meta.dirname, '../../flows/intent-model.json');

const DIMS = 1 << 20;
// 2: sound stand-ins fixed per reading (version 1 numbered them in the order texts were seen).
const MODEL_VERSION = 2;

export const ModelArtefact = z.object({
  version: z.literal(MODEL_VERSION),
  /** What it was trained on and how, for people reading the file. */
  trainedOn: z.object({ lines: z.number().int(), files: z.array(z.string()), half: z.enum(['tune', 'all']), epochs: z.number().int() }),
  classes: z.array(Intent).min(2),
  bias: z.array(z.number()),
  /** Weights are int8 × scale; features are hashed n-gram ids (sorted, base64 uint32). */
  scale: z.number().positive(),
  features: z.string(),
  weights: z.string(),
});
export type ModelArtefact = z.infer<typeof ModelArtefact>;

export interface NgramModel {
  /** Probabilities per class, best first. */
  predict(normalised: string): { intent: Intent; probability: number }[];
}

/** Feature ids of a normalised text (deduplicated). */
export function featurize(normalised: string, sound: (text: string) => string): number[] {
  const ids = new Set<number>();
  const grams = (prefix: string, text: string) => {
    const chars = [...`^${text}$`];
    for (let n = 1; n <= 3; n += 1) {
      for (let i = 0; i + n <= chars.length; i += 1) {
        const gram = chars.slice(i, i + n).join('');
        if (gram === '^' || gram === '$' || gram === ' ') continue;
        ids.add(textHash(`${prefix}${gram}`) % DIMS);
      }
    }
  };
  grams('c:', normalised);
  const sounded = sound(normalised);
  if (sounded !== normalised) grams('s:', sounded);
  for (const m of normalised.matchAll(/[a-z]+/g)) ids.add(textHash(`w:${m[0]}`) % DIMS);
  return [...ids];
}

function softmax(scores: number[]): number[] {
  const max = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Trains on normalised texts; deterministic for a seed. */
export function trainModel(
  rows: readonly { normalised: string; intent: Intent }[],
  options: { epochs?: number; seed?: number; l2?: number; rate?: number; files?: string[]; half?: 'tune' | 'all' } = {},
): ModelArtefact {
  const epochs = options.epochs ?? 12;
  const l2 = options.l2 ?? 1e-5;
  const rate = options.rate ?? 0.4;
  const sound = createSoundMapper();
  const classes = Intent.options.filter((c) => rows.some((r) => r.intent === c));
  const examples = rows.map((r) => ({ ids: featurize(r.normalised, sound), y: classes.indexOf(r.intent) }));
  const index = new Map<number, number>();
  for (const e of examples) for (const id of e.ids) if (!index.has(id)) index.set(id, index.size);
  const k = classes.length;
  const w = new Float64Array(index.size * k);
  const g2 = new Float64Array(index.size * k).fill(1e-8);
  const bias = new Float64Array(k);
  const random = seededRandom(options.seed ?? 7);
  const order = examples.map((_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch += 1) {
    for (let i = order.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
    }
    for (const n of order) {
      const e = examples[n];
      if (!e) continue;
      const rowsOf = e.ids.map((id) => index.get(id) ?? 0);
      const scores = Array.from(bias);
      for (const r of rowsOf) for (let c = 0; c < k; c += 1) scores[c] = (scores[c] ?? 0) + (w[r * k + c] ?? 0);
      const p = softmax(scores);
      for (let c = 0; c < k; c += 1) {
        const grad = (p[c] ?? 0) - (c === e.y ? 1 : 0);
        bias[c] = (bias[c] ?? 0) - rate * 0.1 * grad;
        for (const r of rowsOf) {
          const at = r * k + c;
          const gi = grad + l2 * (w[at] ?? 0);
          g2[at] = (g2[at] ?? 0) + gi * gi;
          w[at] = (w[at] ?? 0) - (rate * gi) / Math.sqrt(g2[at] ?? 1);
        }
      }
    }
  }
  // Sorted feature ids with their int8-quantised weights.
  const ids = [...index.entries()].sort((a, b) => a[0] - b[0]);
  let maxAbs = 0;
  for (const v of w) maxAbs = Math.max(maxAbs, Math.abs(v));
  const scale = maxAbs / 127 || 1;
  // Features whose weights all round to almost nothing are left out: a smaller file, a faster load.
  const kept = ids.filter(([, row]) => {
    for (let c = 0; c < k; c += 1) if (Math.abs(Math.round((w[row * k + c] ?? 0) / scale)) > 1) return true;
    return false;
  });
  const features = new Uint32Array(kept.length);
  const weights = new Int8Array(kept.length * k);
  kept.forEach(([id, row], i) => {
    features[i] = id;
    for (let c = 0; c < k; c += 1) weights[i * k + c] = Math.round((w[row * k + c] ?? 0) / scale);
  });
  return {
    version: MODEL_VERSION,
    trainedOn: { lines: rows.length, files: options.files ?? [], half: options.half ?? 'all', epochs },
    classes,
    bias: Array.from(bias, (b) => Math.round(b * 1e4) / 1e4),
    scale,
    features: Buffer.from(features.buffer).toString('base64'),
    weights: Buffer.from(weights.buffer).toString('base64'),
  };
}

/** A model from its artefact: decoding is a few typed-array copies. */
export function createNgramModel(artefact: ModelArtefact): NgramModel {
  const sound = createSoundMapper();
  const featureBytes = Buffer.from(artefact.features, 'base64');
  const features = new Uint32Array(featureBytes.buffer.slice(featureBytes.byteOffset, featureBytes.byteOffset + featureBytes.byteLength));
  const weightBytes = Buffer.from(artefact.weights, 'base64');
  const weights = new Int8Array(weightBytes.buffer.slice(weightBytes.byteOffset, weightBytes.byteOffset + weightBytes.byteLength));
  const k = artefact.classes.length;
  const rowOf = new Map<number, number>();
  features.forEach((id, i) => rowOf.set(id, i));
  return {
    predict(normalised) {
      const scores = [...artefact.bias];
      for (const id of featurize(normalised, sound)) {
        const row = rowOf.get(id);
        if (row === undefined) continue;
        for (let c = 0; c < k; c += 1) scores[c] = (scores[c] ?? 0) + (weights[row * k + c] ?? 0) * artefact.scale;
      }
      return softmax(scores)
        .map((probability, c) => ({ intent: artefact.classes[c] ?? 'other', probability }))
        .sort((a, b) => b.probability - a.probability);
    },
  };
}

/** Reads and validates a model artefact; null when the file does not exist (the stage is then skipped). */
export function loadModel(path: string = DEFAULT_MODEL_PATH): NgramModel | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  return createNgramModel(ModelArtefact.parse(JSON.parse(text)));
}
