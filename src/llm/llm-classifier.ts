import { z } from 'zod';
import { Classification, ComplaintCategory, Intent, type ClassifyContext, type IntentCandidate, Sentiment } from '../core/intent.js';
import { maskForLlm } from '../core/mask.js';
import { Locale } from '../core/message.js';
import { renderHints } from './intent-guide.js';
import type { LlmCallOutcome } from './metrics.js';
import { type PromptTemplate, renderPrompt } from './prompts.js';
import { callStructured, type LlmCallDeps } from './structured-call.js';

/**
 * What the model must answer: closed enums and nullable strings only. Strict: an answer with any
 * other key (a "refund_amount", an "approved" flag) fails the schema and is thrown away.
 */
export const LlmIntentAnswer = z.strictObject({
  intent: Intent,
  confidence: z.number().min(0).max(1),
  order_number: z.string().max(40).nullable(),
  coupon_code: z.string().max(40).nullable(),
  complaint_category: ComplaintCategory.nullable(),
  affirmation: z.enum(['yes', 'no']).nullable(),
  sentiment: Sentiment,
  language: Locale.nullable(),
});
export type LlmIntentAnswer = z.infer<typeof LlmIntentAnswer>;

export type LlmClassifyResult = { ok: true; classification: Classification } | { ok: false; outcome: Exclude<LlmCallOutcome, 'ok'> };

/** Classifies one message with the LLM; failures are results, for the cascade to fall back on. */
export interface LlmClassifier {
  /** `hints`: the rules' candidates (intent, matched phrase, distance), passed on to the model. */
  classify(text: string, context: ClassifyContext, hints?: readonly IntentCandidate[]): Promise<LlmClassifyResult>;
}

const MAX_TEXT = 2000;
const MAX_TURN = 400;
const MAX_TURNS = 6;

/**
 * An LLM classifier over the `classify` prompt; masks personal data before anything is sent.
 * `intentGuide` gives the rendered intent list (descriptions and examples from the lexicon in force).
 */
export function createLlmClassifier(deps: LlmCallDeps & { prompt: PromptTemplate; intentGuide: () => string }): LlmClassifier {
  return {
    async classify(text, context, hints = []) {
      const masked = maskForLlm(text).slice(0, MAX_TEXT);
      const { system, user } = renderPrompt(deps.prompt, {
        intents: Intent.options.join(', '),
        intent_guide: deps.intentGuide(),
        hints: dataJson(renderHints(hints).map((h) => ({ ...h, found: maskForLlm(h.found).slice(0, MAX_TURN) }))),
        complaint_categories: ComplaintCategory.options.join(', '),
        step: dataJson(context.step),
        recent_turns: dataJson(
          context.recentTurns.slice(-MAX_TURNS).map((t) => ({ author: t.author, text: maskForLlm(t.text).slice(0, MAX_TURN) })),
        ),
        message: dataJson(masked),
      });
      const result = await callStructured(deps, { task: 'classify', schemaName: 'classification', schema: LlmIntentAnswer, system, user });
      if (!result.ok) return result;
      return { ok: true, classification: toClassification(result.value, masked) };
    },
  };
}

/**
 * Turns a valid answer into a Classification. Extracted values must be written in the consumer's
 * text: a slot the model made up (or was talked into) is dropped.
 */
export function toClassification(answer: LlmIntentAnswer, maskedText: string): Classification {
  return Classification.parse({
    intent: answer.intent,
    confidence: answer.confidence,
    slots: {
      orderNumber: foundIn(answer.order_number, maskedText),
      couponCode: foundIn(answer.coupon_code, maskedText),
      complaintCategory: answer.intent === 'complaint' ? answer.complaint_category : null,
      affirmation: answer.affirmation,
    },
    sentiment: answer.sentiment,
    language: answer.language,
    source: 'llm',
  });
}

function foundIn(value: string | null, text: string): string | null {
  if (value === null) return null;
  const squash = (s: string) => s.replace(/[\s-]/g, '').toUpperCase();
  const wanted = squash(value);
  if (wanted.length < 4 || !/^[A-Z0-9]+$/.test(wanted)) return null;
  return squash(text).includes(wanted) ? value.trim().toUpperCase() : null;
}

/** JSON for a value placed inside a tagged block: `<` and `>` escaped so it cannot close the tag. */
export function dataJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e');
}
