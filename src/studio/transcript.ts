import { z } from 'zod';

/** One turn of a golden transcript: what the consumer does, and what must follow. */
export const TranscriptTurn = z.strictObject({
  /** What the consumer types. `{{foreignOrder}}` is another customer's order number, `{{ownOrder}}` the customer's latest. */
  send: z.string().optional(),
  /** Press a quick reply of the last bot message: its id, `#n` (1-based), or `~text` (label contains). */
  press: z.string().optional(),
  /** One entry per bot message of this turn, each a substring the message must contain. */
  bot: z.array(z.string()),
  /** Quick-reply ids (or `~label text`) the last bot message must offer. */
  buttons: z.array(z.string()).optional(),
  state: z
    .strictObject({
      flowId: z.string().nullable().optional(),
      step: z.string().nullable().optional(),
      status: z.string().optional(),
      locale: z.string().optional(),
      priorityAtLeast: z.number().optional(),
    })
    .optional(),
  /** Reason of the latest handoff of the conversation, or `none`. */
  handoff: z.string().optional(),
  /** The callback number the latest handoff carries to the agent. */
  callbackPhone: z.string().optional(),
  /** Refund rows created in this conversation. */
  refunds: z.number().optional(),
  complaints: z.number().optional(),
  /** SLA timers of the conversation still armed (neither fired nor cancelled). */
  openTimers: z.number().optional(),
});
export type TranscriptTurn = z.infer<typeof TranscriptTurn>;

/** A golden transcript (transcripts/<flow>-<case>.<locale>.yaml), played against demo data. */
export const Transcript = z.strictObject({
  description: z.string(),
  customer: z.enum(['senior', 'emily']),
  turns: z.array(TranscriptTurn).min(1),
});
export type Transcript = z.infer<typeof Transcript>;

/** A quick reply picked by `press`: its id, `#n`, or `~label text`. */
export function pressed(replies: readonly { id: string; label: string }[], key: string): { id: string; label: string } | undefined {
  if (key.startsWith('#')) return replies[Number(key.slice(1)) - 1];
  if (key.startsWith('~')) return replies.find((q) => q.label.includes(key.slice(1)));
  return replies.find((q) => q.id === key);
}
