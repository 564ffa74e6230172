import { z } from 'zod';

/** The current state format stored in `conversations.state`. */
export const STATE_VERSION = 2;

/** Flow state of one conversation, pinned to the flow version it started on. */
export const FlowState = z.object({
  version: z.literal(STATE_VERSION),
  /** The flow and its content-hash version; null while no flow runs (the next message opens the main menu). */
  flowId: z.string().nullable(),
  flowVersion: z.string().nullable(),
  /** The step waiting for the consumer's answer. */
  step: z.string().nullable(),
  slots: z.record(z.string(), z.unknown()),
  /** Invalid answers to the current `ask` step. */
  retries: z.number().int().nonnegative(),
  /** Failed understandings in a row. */
  misses: z.number().int().nonnegative(),
  /** Set once the consumer chose a language (or it was detected); detection stops then. */
  localeLocked: z.boolean(),
  turns: z.number().int().nonnegative(),
  /** The open handoff, while people own the conversation. */
  handoff: z.object({ ticketNumber: z.string(), acknowledged: z.boolean() }).nullable(),
  /**
   * A flow stopped at an account action because the sender was not proven; a proven message
   * (e.g. the email answered through its reply address) starts it again from its beginning.
   */
  proofPending: z.object({ flowId: z.string(), askedAt: z.string() }).nullable().optional(),
});
export type FlowState = z.infer<typeof FlowState>;

/** The state of a conversation that has not started a flow. */
export function initialState(): FlowState {
  return { version: STATE_VERSION, flowId: null, flowVersion: null, step: null, slots: {}, retries: 0, misses: 0, localeLocked: false, turns: 0, handoff: null };
}

// Version 1: the menu responder before the flow engine stored nothing but `{}` (or `{version: 1}`).
const StateV1 = z.object({ version: z.literal(1).optional() }).loose();

/**
 * Parses stored state, migrating older versions forward. Unknown or broken state starts over
 * rather than failing the turn: the consumer sees the main menu again.
 */
export function parseState(stored: unknown): { state: FlowState; migrated: boolean } {
  const current = FlowState.safeParse(stored);
  if (current.success) return { state: current.data, migrated: false };
  // v1 -> v2: nothing to carry over; the conversation continues at the main menu.
  if (StateV1.safeParse(stored).success) return { state: initialState(), migrated: true };
  return { state: initialState(), migrated: true };
}
