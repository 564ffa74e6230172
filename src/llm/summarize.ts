import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { caseLines, ownWords } from '../actions/handoff-context.js';
import type { HandoffSummarizer } from '../actions/handoff.js';
import { maskForLlm } from '../core/mask.js';
import { dataJson } from './llm-classifier.js';
import { type PromptTemplate, renderPrompt } from './prompts.js';
import { callStructured, type LlmCallDeps } from './structured-call.js';

export type { HandoffSummarizer } from '../actions/handoff.js';

/** What the model must answer for a handoff summary. */
export const LlmSummaryAnswer = z.strictObject({
  wants: z.string().min(1).max(300),
  done: z.string().min(1).max(300),
  open: z.string().min(1).max(300),
  note: z.string().max(300).nullable(),
});
export type LlmSummaryAnswer = z.infer<typeof LlmSummaryAnswer>;

const Localized = z.object({ 'zh-Hans': z.string(), 'zh-Hant': z.string(), en: z.string() });
export const SummaryLabels = z.object({ wants: Localized, done: Localized, open: Localized, note: Localized, language: Localized });
export type SummaryLabels = z.infer<typeof SummaryLabels>;

/** Loads prompts/summarize-labels.yaml. */
export function loadSummaryLabels(path: string): SummaryLabels {
  return SummaryLabels.parse(parse(readFileSync(path, 'utf8')));
}

const TRANSCRIPT_TURNS = 20;
const TURN_CHARS = 300;

/**
 * The LLM handoff summary (3–4 labelled lines: wants, done, open, an optional note). For a
 * complaint, refund review, callback or "not understood" the summary leads with the case's facts
 * as the rules state them (order, merchant, the consumer's own words): the model writes prose,
 * it never decides which order the case is about. Returns null when the call fails or the answer
 * is unusable, so the rule-based summary stays.
 */
export function createLlmSummarizer(deps: LlmCallDeps & { prompt: PromptTemplate; labels: SummaryLabels }): HandoffSummarizer {
  return {
    async summarize({ packet, reason, slots, locale, ruleSummary }) {
      const { system, user } = renderPrompt(deps.prompt, {
        output_language: deps.labels.language[locale],
        reason: dataJson(reason),
        case: dataJson(maskDeep({ ...(packet.focus ?? { kind: 'general' }), lastTypedByConsumer: ownWords(packet.transcript).at(-1)?.text ?? null })),
        slots: dataJson(maskDeep(slots)),
        orders: dataJson(
          packet.orders.slice(0, 3).map((o) => ({
            orderNumber: o.orderNumber,
            deal: o.deal.title,
            merchant: o.merchant.name,
            coupons: o.coupons.map((c) => c.state),
            refundAnytime: o.deal.refundAnytime,
            refundOnExpiry: o.deal.refundOnExpiry,
          })),
        ),
        transcript: dataJson(
          packet.transcript.slice(-TRANSCRIPT_TURNS).map((t) => ({ author: t.author, text: maskForLlm(t.text).slice(0, TURN_CHARS) })),
        ),
        rule_summary: dataJson(maskForLlm(ruleSummary)),
      });
      const result = await callStructured(deps, { task: 'summarize', schemaName: 'handoff_summary', schema: LlmSummaryAnswer, system, user });
      if (!result.ok) return null;
      const line = (key: 'wants' | 'done' | 'open' | 'note', text: string) => `${deps.labels[key][locale]}${oneLine(text)}`;
      const facts = packet.focus && packet.focus.kind !== 'general' ? caseLines(packet, locale) : [];
      const lines = [...facts, line('wants', result.value.wants), line('done', result.value.done), line('open', result.value.open)];
      if (result.value.note) lines.push(line('note', result.value.note));
      return lines.join('\n');
    },
  };
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}

function maskDeep(value: unknown): unknown {
  if (typeof value === 'string') return maskForLlm(value);
  if (Array.isArray(value)) return value.map(maskDeep);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v)]));
  return value;
}
