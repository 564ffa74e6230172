import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import type { LlmCallOutcome, LlmMetrics, LlmTask } from './metrics.js';

/** What every LLM call needs besides its prompt. */
export interface LlmCallDeps {
  client: OpenAI;
  model: string;
  /** `json_schema` (OpenAI, Azure, vLLM, Ollama, recent Qwen) or `json_object` (DeepSeek, older servers). */
  responseFormat: 'json_schema' | 'json_object';
  timeoutMs: number;
  logger: Logger;
  metrics: LlmMetrics;
}

export type StructuredResult<T> = { ok: true; value: T } | { ok: false; outcome: Exclude<LlmCallOutcome, 'ok'> };

/** Outcomes that say the endpoint is unhealthy (they feed the circuit breaker). */
export const TRANSPORT_FAILURES: ReadonlySet<LlmCallOutcome> = new Set(['timeout', 'rate_limited', 'http_error', 'connection_error']);

// The part of a chat completion we read; anything else an endpoint sends is ignored.
const ChatResponse = z.object({
  choices: z
    .array(
      z.object({
        finish_reason: z.string().nullable().optional(),
        message: z.object({ content: z.string().nullable().optional(), refusal: z.string().nullable().optional() }),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).nullable().optional(),
});

/**
 * One chat completion whose answer must be a JSON object matching `schema`. Never throws for
 * what an endpoint can do (errors, timeouts, refusals, bad output): those are outcomes. Records
 * tokens, latency and the outcome (`llm.call`).
 */
export async function callStructured<S extends z.ZodType>(
  deps: LlmCallDeps,
  call: { task: LlmTask; schemaName: string; schema: S; system: string; user: string },
): Promise<StructuredResult<z.infer<S>>> {
  // A duration, not a moment: the monotonic clock, so a fake wall clock in tests cannot skew it.
  const started = performance.now();
  let promptTokens: number | null = null;
  let completionTokens: number | null = null;
  const finish = <T>(result: StructuredResult<T>): StructuredResult<T> => {
    const ms = Math.round(performance.now() - started);
    deps.metrics.record(deps.logger, {
      task: call.task,
      model: deps.model,
      outcome: result.ok ? 'ok' : result.outcome,
      ms,
      promptTokens,
      completionTokens,
    });
    return result;
  };

  let raw: unknown;
  try {
    raw = await deps.client.chat.completions.create(
      {
        model: deps.model,
        messages: [
          { role: 'system', content: call.system },
          { role: 'user', content: call.user },
        ],
        temperature: 0,
        response_format:
          deps.responseFormat === 'json_schema' ? zodResponseFormat(call.schema, call.schemaName) : { type: 'json_object' },
      },
      { timeout: deps.timeoutMs, maxRetries: 0 },
    );
  } catch (err) {
    return finish({ ok: false, outcome: errorOutcome(err, deps.logger) });
  }
  const response = ChatResponse.safeParse(raw);
  if (!response.success) return finish({ ok: false, outcome: 'invalid_json' });
  promptTokens = response.data.usage?.prompt_tokens ?? null;
  completionTokens = response.data.usage?.completion_tokens ?? null;
  const choice = response.data.choices[0];
  if (!choice) return finish({ ok: false, outcome: 'invalid_json' });
  if (choice.message.refusal || choice.finish_reason === 'content_filter') return finish({ ok: false, outcome: 'refusal' });
  if (choice.finish_reason === 'length') return finish({ ok: false, outcome: 'truncated' });
  let json: unknown;
  try {
    json = JSON.parse(stripCodeFence(choice.message.content ?? ''));
  } catch {
    return finish({ ok: false, outcome: 'invalid_json' });
  }
  const parsed = call.schema.safeParse(json);
  if (!parsed.success) return finish({ ok: false, outcome: 'schema_violation' });
  return finish({ ok: true, value: parsed.data });
}

function errorOutcome(err: unknown, logger: Logger): Exclude<LlmCallOutcome, 'ok'> {
  if (err instanceof OpenAI.APIConnectionTimeoutError || err instanceof OpenAI.APIUserAbortError) return 'timeout';
  if (err instanceof OpenAI.RateLimitError) return 'rate_limited';
  if (err instanceof OpenAI.APIConnectionError) return 'connection_error';
  if (err instanceof OpenAI.APIError) return 'http_error';
  // Not an HTTP failure the client knows (a malformed body, a bug): fall back, but say so.
  logger.warn({ err }, 'llm.call_failed');
  return 'http_error';
}

// Some OpenAI-compatible servers wrap JSON mode answers in a Markdown code fence.
function stripCodeFence(text: string): string {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$/.exec(text);
  return fenced?.[1] ?? text;
}
