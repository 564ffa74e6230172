import { Classification, type ClassifyContext, type IntentClassifier } from '../core/intent.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { LlmClassifier } from './llm-classifier.js';
import type { LlmMetrics } from './metrics.js';
import { TRANSPORT_FAILURES } from './structured-call.js';

export interface CascadeOptions {
  /** The rules lexicon: asked first, and the fallback. */
  rules: IntentClassifier;
  llm: LlmClassifier;
  breaker: CircuitBreaker;
  /** Whether a rules answer is good enough to skip the LLM (the rules classifier's `confidentEnough`). */
  confident: (result: Classification) => boolean;
  /** Below this a fallback rules answer counts as unclear and becomes `other` (default 0.5). */
  unclearBelow?: number;
  metrics: LlmMetrics;
}

/** Confidence of the "unclear" answer: low, so the engine shows the menu of buttons. */
export const UNCLEAR_CONFIDENCE = 0.1;

/**
 * Rules first, the LLM for the rest. When the rules are confident (button labels, 转人工, a bare
 * order number, yes/no) no LLM call is made. When the LLM fails (timeout, HTTP error, 429,
 * refusal, bad output) or its circuit is open, the answer is exactly what the rules alone would
 * have said — or `other` with low confidence when that is unclear — so an outage degrades to
 * rules-only behaviour and never to extra "not understood" handoffs.
 */
export function createCascadeClassifier(options: CascadeOptions): IntentClassifier {
  const { rules, llm, breaker, confident, metrics } = options;
  const unclearBelow = options.unclearBelow ?? 0.5;

  const fallback = (ruled: Classification, route: 'fallback_error' | 'fallback_breaker_open'): Classification => {
    metrics.cascade[route] += 1;
    if (ruled.intent !== 'other' && ruled.confidence >= unclearBelow) return ruled;
    return Classification.parse({ ...ruled, intent: 'other', confidence: Math.min(ruled.confidence, UNCLEAR_CONFIDENCE) });
  };

  return {
    async classify(text: string, context: ClassifyContext): Promise<Classification> {
      const ruled = await rules.classify(text, context);
      if (confident(ruled)) {
        metrics.cascade.rules += 1;
        return ruled;
      }
      if (!breaker.tryAcquire()) return fallback(ruled, 'fallback_breaker_open');
      const answer = await llm.classify(text, context, ruled.candidates ?? []);
      if (answer.ok) {
        breaker.recordSuccess();
        metrics.cascade.llm += 1;
        return mergeSlots(answer.classification, ruled);
      }
      if (TRANSPORT_FAILURES.has(answer.outcome)) {
        breaker.recordFailure();
      } else {
        // The endpoint is up; the answer was unusable (refusal, bad JSON). A consumer can provoke
        // that on purpose, so it must not trip the breaker for everyone.
        breaker.release();
      }
      return fallback(ruled, 'fallback_error');
    },
  };
}

// Values the rules extracted deterministically (an order number matched by pattern) fill the
// LLM's gaps; the LLM's intent stands.
function mergeSlots(llm: Classification, ruled: Classification): Classification {
  return {
    ...llm,
    ...(ruled.candidates ? { candidates: ruled.candidates } : {}),
    slots: {
      orderNumber: llm.slots.orderNumber ?? ruled.slots.orderNumber,
      couponCode: llm.slots.couponCode ?? ruled.slots.couponCode,
      complaintCategory: llm.slots.complaintCategory ?? (llm.intent === 'complaint' ? ruled.slots.complaintCategory : null),
      affirmation: llm.slots.affirmation ?? ruled.slots.affirmation,
    },
    sentiment: llm.sentiment === 'neutral' ? ruled.sentiment : llm.sentiment,
    language: llm.language ?? ruled.language,
  };
}
