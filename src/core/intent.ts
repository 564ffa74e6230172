import { z } from 'zod';
import { Locale } from './message.js';

/** What a consumer wants, as a closed set. */
export const Intent = z.enum(['account_help', 'refund', 'complaint', 'order_help', 'human', 'other', 'refund_status']);
export type Intent = z.infer<typeof Intent>;

export const ComplaintCategory = z.enum([
  'hidden_charges',
  'not_as_described',
  'coupon_refused',
  'worse_treatment',
  'quality_hygiene',
  'staff_attitude',
  'shop_closed',
  'other',
]);
export type ComplaintCategory = z.infer<typeof ComplaintCategory>;

/** Values pulled out of the consumer's text. */
export const IntentSlots = z.object({
  orderNumber: z.string().nullable().default(null),
  couponCode: z.string().nullable().default(null),
  complaintCategory: ComplaintCategory.nullable().default(null),
  /** yes/no answers to a confirmation, when the text is one. */
  affirmation: z.enum(['yes', 'no']).nullable().default(null),
});
export type IntentSlots = z.infer<typeof IntentSlots>;

export const Sentiment = z.enum(['neutral', 'negative', 'angry']);
export type Sentiment = z.infer<typeof Sentiment>;

/** The classifier's answer: always a closed intent, a confidence in [0, 1] and where it came from. */
export const Classification = z.object({
  intent: Intent,
  confidence: z.number().min(0).max(1),
  slots: IntentSlots,
  sentiment: Sentiment.default('neutral'),
  language: Locale.nullable().default(null),
  /** Which stage answered: the lexicon rules, the local n-gram model, or the LLM. */
  source: z.enum(['rules', 'model', 'llm']),
  /** The lexicon phrase behind a rules answer, and how far the text was from it (0 = as written). */
  match: z
    .object({
      phrase: z.string(),
      found: z.string(),
      distance: z.number().int().min(0),
      kind: z.enum(['exact', 'pinyin', 'edit']),
    })
    .nullable()
    .default(null),
  /**
   * The rules' evidence per intent, strongest first (only on rules answers, and only where a cue
   * matched): the LLM gets these as hints, so a typo'd 推款 reaches it as "refund via 退款, distance 1".
   */
  candidates: z
    .array(
      z.object({
        intent: Intent,
        phrase: z.string(),
        found: z.string(),
        distance: z.number().int().min(0),
        kind: z.enum(['exact', 'pinyin', 'edit']),
      }),
    )
    .optional(),
});
export type Classification = z.infer<typeof Classification>;
export type IntentCandidate = NonNullable<Classification['candidates']>[number];

/** What the classifier may know about where the conversation stands. */
export interface ClassifyContext {
  locale: Locale | null;
  /** The flow step waiting for an answer, if any (e.g. "refund.pick_order"). */
  step: string | null;
  /** The last few turns, oldest first, already masked. */
  recentTurns: { author: 'customer' | 'bot' | 'agent' | 'system'; text: string }[];
}

/** The intent detection port: the rules lexicon, an LLM, or a cascade of both implement it. */
export interface IntentClassifier {
  classify(text: string, context: ClassifyContext): Promise<Classification>;
}
