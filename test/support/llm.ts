import { Writable } from 'node:stream';
import { http, HttpResponse, delay } from 'msw';
import { setupServer } from 'msw/node';
import type { Classification, ClassifyContext, IntentClassifier } from '../../src/core/intent.js';
import { createLogger, type Logger } from '../../src/logger.js';
import type { LlmConfig } from '../../src/llm/client.js';

export const OPENAI_BASE = 'https://api.openai.com/v1';
export const COMPLETIONS_URL = `${OPENAI_BASE}/chat/completions`;

/** LLM settings as tests use them: the real endpoint address (msw intercepts it). */
export function llmConfig(overrides: Partial<LlmConfig> = {}): LlmConfig {
  return {
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: OPENAI_BASE,
    OPENAI_MODEL: 'gpt-4o-mini',
    OPENAI_TIMEOUT_MS: 4000,
    OPENAI_RESPONSE_FORMAT: 'json_schema',
    ...overrides,
  };
}

/** An msw server for third-party hosts: unhandled requests to them fail the test, loopback passes. */
export function thirdPartyServer() {
  return setupServer();
}

export const onUnhandled = {
  onUnhandledRequest(request: Request, print: { error(): void }) {
    const host = new URL(request.url).hostname;
    if (host === '127.0.0.1' || host === 'localhost' || host === '::1') return;
    print.error();
  },
};

/** A chat completion body as OpenAI sends it. */
export function completionBody(
  content: string | null,
  options: { refusal?: string | null; finishReason?: string; usage?: { prompt_tokens: number; completion_tokens: number } } = {},
) {
  const usage = options.usage ?? { prompt_tokens: 412, completion_tokens: 38 };
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1763802000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: options.refusal ?? null },
        finish_reason: options.finishReason ?? 'stop',
        logprobs: null,
      },
    ],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}

/** A valid classification answer from the model. */
export function intentAnswer(overrides: Record<string, unknown> = {}) {
  return {
    intent: 'refund',
    confidence: 0.92,
    order_number: null,
    coupon_code: null,
    complaint_category: null,
    affirmation: null,
    sentiment: 'neutral',
    language: 'zh-Hans',
    ...overrides,
  };
}

/** Records every request body sent to the completions endpoint and answers with `reply`. */
export function completionsHandler(reply: (body: any, n: number) => Response | Promise<Response>) {
  const bodies: any[] = [];
  const handler = http.post(COMPLETIONS_URL, async ({ request }) => {
    const body = await request.json();
    bodies.push(body);
    return reply(body, bodies.length);
  });
  return { handler, bodies };
}

export const answerWith = (answer: unknown) => () => HttpResponse.json(completionBody(JSON.stringify(answer)));
export const hang = async () => {
  await delay('infinite');
  return HttpResponse.json({});
};

/** A pino logger writing JSON lines into memory. */
export function captureLogger(): { logger: Logger; lines(): Record<string, any>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const logger = createLogger('debug', sink);
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l)),
  };
}

export const noContext: ClassifyContext = { locale: null, step: null, recentTurns: [] };

/** A fixed-answer rules stage for cascade unit tests. */
export function fixedRules(answer: Partial<Classification>): IntentClassifier & { calls: number } {
  const rules = {
    calls: 0,
    async classify(): Promise<Classification> {
      rules.calls += 1;
      return {
        intent: 'other',
        confidence: 0.3,
        slots: { orderNumber: null, couponCode: null, complaintCategory: null, affirmation: null },
        sentiment: 'neutral',
        language: null,
        source: 'rules',
        ...answer,
        match: answer.match ?? null,
      };
    },
  };
  return rules;
}
