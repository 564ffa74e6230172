import { join } from 'node:path';

/** Flow definitions and the intent lexicon, edited by platform teams. */
export const FLOWS_DIR = join(import.meta.dirname, '../flows');
/** LLM prompt templates and channel wording. */
export const PROMPTS_DIR = join(import.meta.dirname, '../prompts');
