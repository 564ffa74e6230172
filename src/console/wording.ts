import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Locale, QuickReply } from '../core/message.js';

const Localized = z.object({ 'zh-Hans': z.string().min(1), 'zh-Hant': z.string().min(1), en: z.string().min(1) });

/** flows/handoff-messages.yaml: what consumers hear from the human side (satisfaction, follow-up). */
export const HandoffMessages = z.object({
  satisfaction: z.object({
    question: Localized,
    labels: z.object({ '1': Localized, '2': Localized, '3': Localized, '4': Localized, '5': Localized }),
    thanks: Localized,
  }),
  followup: Localized,
});
export type HandoffMessages = z.infer<typeof HandoffMessages>;

export const HANDOFF_MESSAGES_PATH = join(import.meta.dirname, '../../flows/handoff-messages.yaml');

/** Loads and validates flows/handoff-messages.yaml. */
export function loadHandoffMessages(path: string = HANDOFF_MESSAGES_PATH): HandoffMessages {
  return HandoffMessages.parse(parse(readFileSync(path, 'utf8')));
}

/** Quick-reply ids of the satisfaction question: `csat_1` … `csat_5`. */
export const SATISFACTION_CHOICE = /^csat_([1-5])$/;

export function satisfactionQuickReplies(wording: HandoffMessages, locale: Locale): QuickReply[] {
  return (['1', '2', '3', '4', '5'] as const).map((n) => ({ id: `csat_${n}`, label: wording.satisfaction.labels[n][locale] }));
}
