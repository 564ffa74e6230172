import OpenAI from 'openai';
import type { Config } from '../config.js';

/** The part of the configuration the LLM client needs. */
export type LlmConfig = Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'OPENAI_MODEL' | 'OPENAI_TIMEOUT_MS' | 'OPENAI_RESPONSE_FORMAT'>;

/**
 * An OpenAI-compatible client (OpenAI, Azure OpenAI v1, DeepSeek, Qwen/DashScope, vLLM, Ollama),
 * or null when no API key is configured. No retries: the cascade falls back to the rules instead.
 */
export function createLlmClient(config: LlmConfig): OpenAI | null {
  if (!config.OPENAI_API_KEY) return null;
  return new OpenAI({
    apiKey: config.OPENAI_API_KEY,
    ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
    timeout: config.OPENAI_TIMEOUT_MS,
    maxRetries: 0,
    // Look fetch up per call rather than capturing it at construction (request interceptors, msw).
    fetch: (url, init) => globalThis.fetch(url, init),
  });
}
