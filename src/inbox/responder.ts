import type { Locale, QuickReply } from '../core/message.js';
import type { Tx } from '../db/client.js';
import type { Conversation, Message } from '../db/schema.js';

/** One message the bot (or the system) wants to send in reply. */
export interface Reply {
  author?: 'bot' | 'system';
  text: string;
  quickReplies?: QuickReply[];
}

/** Changes to the conversation that the turn decided. */
export interface ConversationPatch {
  state?: Record<string, unknown>;
  flowId?: string | null;
  flowVersion?: string | null;
  locale?: Locale;
  priority?: number;
  status?: Conversation['status'];
}

export interface TurnInput {
  /**
   * Where the turn reads and writes. The processor first offers a handle that only reads: a turn
   * that writes nothing of its own is stored with many others in one statement. The first write
   * throws there, and `respond` runs again with a real transaction, so nothing before that first
   * write may have an effect outside the database.
   */
  tx: Tx;
  conversation: Conversation;
  message: Message;
  now: Date;
  /** Whatever `prepare` returned for this message (e.g. its intent classification). */
  prepared?: unknown;
}

export interface TurnResult {
  replies: Reply[];
  patch?: ConversationPatch;
  /** Slow follow-up work to run once the turn has committed (e.g. an LLM handoff summary). */
  afterCommit?: (() => Promise<void>)[];
  /**
   * Writes to run last in the turn's transaction, just before the statement that stores the turn
   * (updates of rows many turns share, whose locks should be held as briefly as possible).
   */
  lastWrites?: ((tx: Tx) => Promise<unknown>)[];
}

/**
 * Decides the answer to one inbound message inside the transaction that stores it; the flow
 * engine implements this. Whatever it writes through `tx` commits together with its replies.
 */
export interface Responder {
  /**
   * Optional slow work done before the transaction opens (an LLM call): on embedded PGlite a
   * transaction blocks every other query, so nothing slow may run inside `respond`.
   */
  prepare?(input: Omit<TurnInput, 'tx' | 'prepared'>): Promise<unknown>;
  respond(input: TurnInput): Promise<TurnResult>;
}
