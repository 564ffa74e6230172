import { z } from 'zod';
import type { Logger } from '../logger.js';

/** How one LLM call ended. */
export const LlmCallOutcome = z.enum([
  'ok',
  'timeout',
  'rate_limited',
  'http_error',
  'connection_error',
  'refusal',
  'invalid_json',
  'schema_violation',
  'truncated',
]);
export type LlmCallOutcome = z.infer<typeof LlmCallOutcome>;

export const LlmTask = z.enum(['classify', 'summarize']);
export type LlmTask = z.infer<typeof LlmTask>;

/** Where a cascade answer came from. */
export const CascadeRoute = z.enum(['rules', 'llm', 'fallback_error', 'fallback_breaker_open']);
export type CascadeRoute = z.infer<typeof CascadeRoute>;

export interface LlmCallRecord {
  task: LlmTask;
  model: string;
  outcome: LlmCallOutcome;
  ms: number;
  promptTokens: number | null;
  completionTokens: number | null;
}

// A zero counter per member of a closed set, typed by the set (z.record over an enum is exhaustive).
const zeros = <K extends string>(keys: z.ZodEnum<{ [k in K]: k }>): Record<K, number> =>
  z.record(keys, z.number()).parse(Object.fromEntries(keys.options.map((k) => [k, 0])));

/** In-process counters for LLM use (calls by outcome, tokens, latency, cascade routes, breaker). */
export class LlmMetrics {
  calls = { classify: zeros(LlmCallOutcome), summarize: zeros(LlmCallOutcome) };
  promptTokens = 0;
  completionTokens = 0;
  latencyMsTotal = 0;
  latencyMsMax = 0;
  cascade = zeros(CascadeRoute);
  breakerOpened = 0;

  /** Counts one call and logs it as `llm.call` (never the prompt or the text). */
  record(logger: Logger, call: LlmCallRecord): void {
    this.calls[call.task][call.outcome] += 1;
    this.promptTokens += call.promptTokens ?? 0;
    this.completionTokens += call.completionTokens ?? 0;
    this.latencyMsTotal += call.ms;
    this.latencyMsMax = Math.max(this.latencyMsMax, call.ms);
    const level = call.outcome === 'ok' ? 'info' : 'warn';
    logger[level](
      { task: call.task, model: call.model, outcome: call.outcome, ms: call.ms, promptTokens: call.promptTokens, completionTokens: call.completionTokens },
      'llm.call',
    );
  }

  /** Total LLM calls made for a task (every outcome). */
  totalCalls(task: LlmTask): number {
    return Object.values(this.calls[task]).reduce((a, b) => a + b, 0);
  }

  /** A plain copy, for a metrics endpoint or a test. */
  snapshot() {
    return {
      calls: { classify: { ...this.calls.classify }, summarize: { ...this.calls.summarize } },
      promptTokens: this.promptTokens,
      completionTokens: this.completionTokens,
      latencyMsTotal: this.latencyMsTotal,
      latencyMsMax: this.latencyMsMax,
      cascade: { ...this.cascade },
      breakerOpened: this.breakerOpened,
    };
  }
}

/** The process-wide counters the service uses unless a test passes its own. */
export const llmMetrics = new LlmMetrics();
