import { and, asc, eq, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import { type Conversation, conversations, type Message, messages } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { Reply, Responder, TurnResult } from './responder.js';
import { writeReplies } from './write-replies.js';

export interface ProcessorDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  responder: Responder;
  /**
   * Runs before a message's turn, outside its transaction; returns the message as it is now
   * (Telegram files are downloaded and stored here, never before the webhook's answer).
   */
  prepareMessage?: (message: Message) => Promise<Message>;
  /** Called after replies were committed to the outbox, to deliver them without waiting for a poll. */
  onOutbox?: () => void;
  /** Called after a conversation changed (for live views). */
  onChange?: (conversationId: string) => void;
  /** How long one processor may hold a conversation before another instance may take over. */
  leaseMs?: number;
}

/**
 * A conversation lease is short and renewed every third of it while the turn runs: a live
 * processor keeps it however long a turn takes (a slow LLM call), and after a crash another
 * instance takes over within seconds instead of waiting out a long lease.
 */
export const CONVERSATION_LEASE_MS = 5000;

/** Pending messages of one conversation read per query (each still runs in its own turn). */
const PENDING_BATCH = 20;

/**
 * Runs the responder for stored inbound messages, one conversation at a time: a lease on the
 * conversation row keeps two messages of one conversation from ever being processed concurrently,
 * across instances too. A crash leaves the message unprocessed; `sweep` picks it up again.
 */
export class Processor {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly leaseMs: number;

  constructor(private readonly deps: ProcessorDeps) {
    this.leaseMs = deps.leaseMs ?? CONVERSATION_LEASE_MS;
  }

  /** Processes the conversation's pending messages soon; returns when this instance is done with it. */
  schedule(conversationId: string): Promise<void> {
    const running = this.inFlight.get(conversationId);
    if (running) {
      this.again.add(conversationId);
      return running;
    }
    const run = (async () => {
      try {
        do {
          this.again.delete(conversationId);
          await this.processConversation(conversationId);
        } while (this.again.has(conversationId));
      } catch (err) {
        this.deps.logger.error({ err, conversationId }, 'conversation.process_failed');
      } finally {
        this.inFlight.delete(conversationId);
      }
    })();
    this.inFlight.set(conversationId, run);
    return run;
  }

  /** Finds conversations with unprocessed messages and no live lease (after a crash or restart). */
  async sweep(limit = 50): Promise<number> {
    const now = this.deps.clock.now();
    const rows = await this.deps.db
      .selectDistinct({ id: messages.conversationId })
      .from(messages)
      .innerJoin(conversations, eq(conversations.id, messages.conversationId))
      .where(
        and(
          eq(messages.direction, 'in'),
          isNull(messages.processedAt),
          or(isNull(conversations.processingUntil), lt(conversations.processingUntil, now)),
        ),
      )
      .limit(limit);
    await Promise.all(rows.map((r) => this.schedule(r.id)));
    return rows.length;
  }

  /**
   * Drops every conversation lease. Only for a database no other process can use (embedded PGlite
   * behind its directory lock): leases left by a killed process would otherwise delay its messages.
   */
  async releaseAllLeases(): Promise<void> {
    await this.deps.db.update(conversations).set({ processingUntil: null }).where(isNotNull(conversations.processingUntil));
  }

  /** Resolves when nothing is in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  private async processConversation(conversationId: string): Promise<void> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const [leased] = await db
      .update(conversations)
      .set({ processingUntil: new Date(now.getTime() + this.leaseMs) })
      .where(
        and(
          eq(conversations.id, conversationId),
          or(isNull(conversations.processingUntil), lt(conversations.processingUntil, now)),
        ),
      )
      .returning();
    if (!leased) return; // another processor holds it and will see our message
    let late = false;
    const renew = setInterval(() => {
      db.update(conversations)
        .set({ processingUntil: new Date(clock.now().getTime() + this.leaseMs) })
        .where(and(eq(conversations.id, conversationId), isNotNull(conversations.processingUntil)))
        .catch((err: unknown) => this.deps.logger.warn({ err, conversationId }, 'conversation.lease_renew_failed'));
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
    try {
      // The row in hand stays current through the turns (each turn's update returns it).
      let conversation: Conversation | null = leased;
      for (;;) {
        const pending = await db
          .select()
          .from(messages)
          .where(and(eq(messages.conversationId, conversationId), eq(messages.direction, 'in'), isNull(messages.processedAt)))
          .orderBy(asc(messages.seq))
          .limit(PENDING_BATCH);
        for (const message of pending) conversation = await this.processMessage(conversation, message);
        // Messages stored on this instance meanwhile asked for another round: take it under this lease.
        if (pending.length < PENDING_BATCH && !this.again.delete(conversationId)) break;
      }
    } finally {
      clearInterval(renew);
      // Releasing also tells whether a message arrived meanwhile (stored by another instance, whose
      // lease attempt failed while we held it); it would otherwise wait for the next sweep.
      const [released] = await db
        .update(conversations)
        .set({ processingUntil: null })
        .where(eq(conversations.id, conversationId))
        .returning({
          late: sql<boolean>`exists (select 1 from ${messages} where ${messages.conversationId} = ${conversationId} and ${messages.direction} = 'in' and ${messages.processedAt} is null)`,
        });
      late = released?.late === true;
    }
    if (late) this.again.add(conversationId);
  }

  /**
   * Runs one turn for a stored message; returns the conversation row as the turn left it (null
   * when unknown, e.g. after a failed turn), which the next message's `prepare` reads.
   */
  private async processMessage(current: Conversation | null, message: Message): Promise<Conversation | null> {
    const { db, clock, logger, responder } = this.deps;
    const conversationId = message.conversationId;
    const now = clock.now();
    let wrote = 0;
    let after: Conversation | null = null;
    let followUps: (() => Promise<void>)[] = [];
    try {
      if (this.deps.prepareMessage) message = await this.deps.prepareMessage(message);
      let prepared: unknown;
      if (responder.prepare) {
        const [fresh] = current ? [current] : await db.select().from(conversations).where(eq(conversations.id, conversationId));
        if (fresh) prepared = await responder.prepare({ conversation: fresh, message, now });
      }
      wrote = await db.transaction(async (tx) => {
        const [conversation] = await tx.select().from(conversations).where(eq(conversations.id, conversationId)).for('update');
        if (!conversation) throw new Error(`conversation ${conversationId} vanished`);
        const result: TurnResult = await responder.respond({ tx, conversation, message, now, prepared });
        const ids = await writeReplies(tx, conversation, result.replies, now);
        const patch = result.patch ?? {};
        // The message is marked processed in the same statement that stores the new state.
        const processed = tx.$with('processed', { id: messages.id }).as(
          tx.update(messages).set({ processedAt: now }).where(eq(messages.id, message.id)).returning({ id: messages.id }).getSQL(),
        );
        [after = null] = await tx
          .with(processed)
          .update(conversations)
          .set({ ...patch, updatedAt: now, ...(ids.length > 0 ? { lastMessageAt: now } : {}) })
          .where(eq(conversations.id, conversationId))
          .returning();
        followUps = result.afterCommit ?? [];
        return ids.length;
      });
      for (const followUp of followUps) {
        await followUp().catch((err: unknown) => logger.warn({ err, conversationId }, 'turn.follow_up_failed'));
      }
      logger.debug({ conversationId, messageId: message.id, replies: wrote }, 'message.processed');
    } catch (err) {
      // A failing turn must not lose the message or loop forever: apologise and move on.
      logger.error({ err, conversationId, messageId: message.id }, 'message.process_failed');
      after = null;
      wrote = await db.transaction(async (tx) => {
        const [conversation] = await tx.select().from(conversations).where(eq(conversations.id, conversationId)).for('update');
        if (!conversation) return 0;
        const apology: Reply = { author: 'system', text: apologyText(conversation.locale) };
        const ids = await writeReplies(tx, conversation, [apology], now);
        await tx.update(messages).set({ processedAt: now, deliveryError: errorText(err) }).where(eq(messages.id, message.id));
        return ids.length;
      });
    }
    if (wrote > 0) this.deps.onOutbox?.();
    this.deps.onChange?.(conversationId);
    return after;
  }
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 500);
}

function apologyText(locale: string): string {
  // The one fixed string outside flows/: it is used when loading or running the flows failed.
  if (locale === 'en') return 'Sorry, something went wrong on our side. Please try again, or type "agent" to reach a person.';
  if (locale === 'zh-Hant') return '抱歉，系統出了點問題。請再試一次，或輸入「人工」聯絡客服。';
  return '抱歉，系统出了点问题。请再试一次，或输入“人工”联系客服。';
}

