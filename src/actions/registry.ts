import type { z } from 'zod';
import type { Locale } from '../core/message.js';
import type { Clock } from '../core/ports.js';
import type { Tx } from '../db/client.js';

/** What every action gets: the turn's transaction (so its writes commit with the bot's replies) and who is asking. */
export interface ActionContext {
  /**
   * The turn's transaction. A bot turn first runs with a handle that only reads: the first write
   * (insert, update, delete, execute) throws, and the turn runs again inside a real transaction.
   * So an action must write to the database before any effect outside it (a payment, a mail);
   * reads and outside reads (order lookups) may happen twice.
   */
  tx: Tx;
  now: Date;
  clock: Clock;
  customerId: string;
  conversationId: string;
  locale: Locale;
  /**
   * Runs a write on a row many turns share (a merchant's complaint counter) last in the turn's
   * transaction, so its row lock is held only until the commit a moment later, not through the rest
   * of the turn; turns for one merchant no longer queue behind each other. Absent (an action run
   * outside a bot turn): `lastInTurn` below runs the write at once.
   */
  lastInTurn?: (write: (tx: Tx) => Promise<unknown>) => void;
}

/** `ctx.lastInTurn(write)` where the turn offers it, else the write now, in the same transaction. */
export async function lastInTurn(ctx: ActionContext, write: (tx: Tx) => Promise<unknown>): Promise<void> {
  if (ctx.lastInTurn) ctx.lastInTurn(write);
  else await write(ctx.tx);
}

/** An action's answer: a closed outcome the flow branches on, and data the flow may show. */
export interface ActionResult<TOutcome extends string = string> {
  outcome: TOutcome;
  data: Record<string, unknown>;
}

/** A domain action the flows may call by name (`orders.recent`, `refund.submit`, …). */
export interface ActionDef<TInput = unknown, TOutcome extends string = string> {
  name: string;
  /** Validates the input the flow passes (slot values). */
  input: z.ZodType<TInput>;
  /**
   * Touches a customer's account (their orders, coupon codes, refunds, complaints on an order):
   * runs only for a sender whose identity is proven; the bot turn refuses it otherwise.
   */
  account: boolean;
  /** Every outcome it can return; `kefu flows check` verifies flows branch only on these. */
  outcomes: readonly TOutcome[];
  run(ctx: ActionContext, input: TInput): Promise<ActionResult<TOutcome>>;
}

/** The actions available to flows, by name. */
export type ActionRegistry = ReadonlyMap<string, ActionDef<unknown, string>>;
