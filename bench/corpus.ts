import { join } from 'node:path';

/** The scripted conversation corpus the LLM-call figure plays (also read by the cascade count test). */
export const CORPUS_PATH = join(import.meta.dirname, '../test/fixtures/llm/conversations.yaml');
