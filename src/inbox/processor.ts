import { and, asc, eq, getTableColumns, isNotNull, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Clock } from '../core/ports.js';
import type { Db, Tx } from '../db/client.js';
import { type Conversation, conversations, type Message, messages } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { Reply, Responder, TurnResult } from './responder.js';
import { NeedsTransaction, readOnlyTx } from './read-only-tx.js';
import { CONVERSATION_VERSION_SQL, PENDING_BATCH, TurnStore, type VersionedConversation } from './turn-store.js';
import { replyStatements, writeReplies } from './write-replies.js';

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
  /**
   * The same announcement as an SQL expression, sent with the statement that commits a turn
   * (no round trip of its own); `onChange` then serves only turns that failed.
   */
  changeSql?: (conversation: Pick<Conversation, 'id' | 'channelIdentityId'>, repliesDelivered: boolean) => SQL<unknown>;
  /** The same announcement as a NOTIFY (channel and payload), for turns stored together by the TurnStore. */
  changeNotify?: {
    channel: string;
    payload: (conversation: Pick<Conversation, 'id' | 'channelIdentityId'>, repliesDelivered: boolean) => string | null;
  };
  /** Channels whose replies are delivered once committed (web chat): no outbox row for them. */
  storedIsDelivered?: (channel: Conversation['channel']) => boolean;
  /** Called after the commit for each reply delivered that way (operators' metrics). */
  onDeliveredOnCommit?: (channel: Conversation['channel'], count: number) => void;
  /** How long one processor may hold a conversation before another instance may take over. */
  leaseMs?: number;
  /**
   * Bot turns run at once by this instance (BOT_MAX_CONCURRENT_TURNS; default 24, 8 on PGlite): the rest wait
   * their turn in memory, so a backlog never takes every database connection.
   */
  maxConcurrentTurns?: number;
  /**
   * Bot turns run at once while intake is under pressure (BOT_TURNS_UNDER_PRESSURE, default 2):
   * messages keep arriving and the process's CPU is saturated (see IntakePressure). Storing and
   * acknowledging messages comes first then; the backlog is answered at full speed once it eases.
   */
  turnsUnderPressure?: number;
  /**
   * Bot turns inside a transaction at once (BOT_TURNS_IN_TRANSACTION, default 6): each holds a
   * database connection until it commits, however long the payment or order API it asks takes.
   * Below the pool's size, intake keeps connections to store and acknowledge messages meanwhile.
   */
  maxTurnsInTransaction?: number;
  /** Whether intake is under pressure right now (IntakePressure.under); without it, never. */
  intakeUnderPressure?: () => boolean;
  /** Called after each turn (answered or apologised for). */
  onTurnDone?: () => void;
}

/**
 * A conversation lease is short and renewed every third of it while the turn runs: a live
 * processor keeps it however long a turn takes (a slow LLM call), and after a crash another
 * instance takes over within seconds instead of waiting out a long lease.
 */
export const CONVERSATION_LEASE_MS = 5000;

/**
 * Runs the responder for stored inbound messages, one conversation at a time: a lease on the
 * conversation row keeps two messages of one conversation from ever being processed concurrently,
 * across instances too. A crash leaves the message unprocessed; `sweep` picks it up again.
 */
export class Processor {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly leaseMs: number;
  private readonly turnSlots: Slots;
  private readonly transactionSlots: Slots;
  /** Leases and finished turns of many conversations go to the database together (group commit). */
  private readonly store: TurnStore;
  /** What `respond` gets in a turn stored without a transaction: reads pass, any write aborts the try. */
  private readonly readOnly: Tx;

  constructor(private readonly deps: ProcessorDeps) {
    this.leaseMs = deps.leaseMs ?? CONVERSATION_LEASE_MS;
    this.store = new TurnStore(deps.db, deps.clock, this.leaseMs);
    this.readOnly = readOnlyTx(deps.db);
    const most = Math.max(1, deps.maxConcurrentTurns ?? 24);
    const underPressure = Math.max(1, Math.min(most, deps.turnsUnderPressure ?? 2));
    this.turnSlots = new Slots(() => (deps.intakeUnderPressure?.() ? underPressure : most));
    const inTransaction = Math.max(1, deps.maxTurnsInTransaction ?? 6);
    this.transactionSlots = new Slots(() => inTransaction);
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

  /** Intake's pressure eased: turns held back meanwhile may start. */
  admitTurns(): void {
    this.turnSlots.admit();
  }

  /** Resolves when nothing is in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  private async processConversation(conversationId: string): Promise<void> {
    await this.turnSlots.acquire();
    try {
      await this.processLeased(conversationId);
    } finally {
      this.turnSlots.release();
    }
  }

  private async processLeased(conversationId: string): Promise<void> {
    const { db, clock } = this.deps;
    // The lease, the conversation row and its first pending messages in one round trip, shared
    // with other conversations' leases taken at the same moment.
    const leased = await this.store.lease(conversationId);
    if (!leased) return; // another processor holds it and will see our message
    let released = false;
    const renew = setInterval(() => {
      db.update(conversations)
        .set({ processingUntil: new Date(clock.now().getTime() + this.leaseMs) })
        .where(and(eq(conversations.id, conversationId), isNotNull(conversations.processingUntil)))
        .catch((err: unknown) => this.deps.logger.warn({ err, conversationId }, 'conversation.lease_renew_failed'));
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
    try {
      // The row in hand stays current through the turns (each turn's update returns it).
      let current: VersionedConversation | null = leased;
      let pending = leased.pending;
      while (pending.length > 0) {
        for (const message of pending) {
          const turn = await this.processMessage(current, message);
          current = turn.conversation;
          released = turn.released;
        }
        // The last turn released the lease when nothing else was waiting; otherwise more came
        // meanwhile (or the batch was full, or a turn failed): take them under this lease.
        if (released) break;
        pending = await this.pendingOf(conversationId);
      }
    } finally {
      clearInterval(renew);
      if (!released) {
        // Releasing also tells whether a message arrived meanwhile (stored by another instance, whose
        // lease attempt failed while we held it); it would otherwise wait for the next sweep.
        const [release] = await db
          .update(conversations)
          .set({ processingUntil: null })
          .where(eq(conversations.id, conversationId))
          .returning({ late: sql<boolean>`exists (select 1 from ${messages} where ${messages.conversationId} = ${conversationId} and ${messages.direction} = 'in' and ${messages.processedAt} is null)` });
        if (release?.late === true) this.again.add(conversationId);
      }
    }
  }

  private async pendingOf(conversationId: string): Promise<Message[]> {
    return this.deps.db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, conversationId), eq(messages.direction, 'in'), isNull(messages.processedAt)))
      .orderBy(asc(messages.seq))
      .limit(PENDING_BATCH);
  }

  /**
   * The turn stored without a transaction of its own, guarded by the version of the row it was
   * decided on. Null when it cannot be: the responder wanted to write (an action, a handoff), or
   * the row changed meanwhile; nothing was written then, and the caller runs the turn in a transaction.
   */
  private async tryGroupCommit(current: VersionedConversation, message: Message, now: Date, prepared: unknown): Promise<TurnOutcome | null> {
    const { responder } = this.deps;
    const { conversation } = current;
    let result: TurnResult;
    try {
      result = await responder.respond({ tx: this.readOnly, conversation, message, now, prepared });
    } catch (err) {
      if (err instanceof NeedsTransaction) return null;
      throw err;
    }
    // Writes left for the end of the turn need its transaction (they are writes, however late).
    if ((result.lastWrites?.length ?? 0) > 0) return null;
    const direct = this.deps.storedIsDelivered?.(conversation.channel) === true;
    const payload = this.deps.changeNotify?.payload(conversation, direct && result.replies.length > 0) ?? null;
    const notify = this.deps.changeNotify && payload !== null ? { channel: this.deps.changeNotify.channel, payload } : null;
    const stored = await this.store
      .write({
        conversation: current,
        messageId: message.id,
        now,
        replies: result.replies,
        patch: result.patch ?? {},
        delivered: direct,
        notify,
      })
      .catch(async (err: unknown) => {
        // A failed batch (another turn's data, a lost connection) falls back to this turn's own
        // transaction, unless the statement committed before its answer was lost: then the turn is done.
        this.deps.logger.warn({ err, conversationId: conversation.id }, 'turn.group_commit_failed');
        const [row] = await this.deps.db
          .select({ processedAt: messages.processedAt })
          .from(messages)
          .where(eq(messages.id, message.id))
          .catch(() => []);
        return row?.processedAt ? ('committed' as const) : null;
      });
    if (!stored) return null;
    if (stored === 'committed') return { conversation: null, released: false, wrote: 0, direct, announced: false, followUps: [] };
    return {
      conversation: { conversation: stored.conversation, version: stored.version },
      released: stored.released,
      wrote: stored.replyIds.length,
      direct,
      announced: notify !== null,
      followUps: result.afterCommit ?? [],
    };
  }

  /**
   * The turn inside a transaction holding the conversation's row lock: turns that write, and retries.
   * `no key update`, the lock an UPDATE takes: a message stored meanwhile only checks its foreign
   * key (a key-share lock) and need not wait for this turn to commit.
   */
  private async transactionalTurn(
    message: Message,
    now: Date,
    prepared: unknown,
    done: (turn: Omit<TurnOutcome, 'wrote'>) => void,
  ): Promise<number> {
    const { db, responder } = this.deps;
    const conversationId = message.conversationId;
    // A turn waits here, before its transaction, while the others in transactions hold their
    // connections (see maxTurnsInTransaction).
    await this.transactionSlots.acquire();
    try {
      return await db.transaction(async (tx) => {
        const [conversation] = await tx.select().from(conversations).where(eq(conversations.id, conversationId)).for('no key update');
        if (!conversation) throw new Error(`conversation ${conversationId} vanished`);
        const result: TurnResult = await responder.respond({ tx, conversation, message, now, prepared });
        for (const write of result.lastWrites ?? []) await write(tx);
        const direct = this.deps.storedIsDelivered?.(conversation.channel) === true;
        const replies = replyStatements(tx, conversation, result.replies, now, direct);
        const patch = result.patch ?? {};
        // One statement stores the replies, queues them, marks the message processed, stores the new
        // state and, when no other message of the conversation waits, releases the lease.
        const processed = tx.$with('processed', { id: messages.id }).as(
          tx.update(messages).set({ processedAt: now }).where(eq(messages.id, message.id)).returning({ id: messages.id }).getSQL(),
        );
        const othersWaiting = sql`exists (select 1 from ${messages} where ${messages.conversationId} = ${conversationId} and ${messages.direction} = 'in' and ${messages.processedAt} is null and ${messages.id} <> ${message.id})`;
        const [updated] = await tx
          .with(...replies.ctes, processed)
          .update(conversations)
          .set({
            ...patch,
            updatedAt: now,
            ...(replies.ids.length > 0 ? { lastMessageAt: now } : {}),
            processingUntil: sql`case when ${othersWaiting} then ${conversations.processingUntil} else null end`,
          })
          .where(eq(conversations.id, conversationId))
          .returning({
            ...conversationColumns,
            version: sql<string>`${sql.raw(CONVERSATION_VERSION_SQL)}`,
            ...(this.deps.changeSql ? { announced: this.deps.changeSql(conversation, direct && replies.ids.length > 0) } : {}),
          });
        let after: VersionedConversation | null = null;
        if (updated) {
          const { announced: _notify, version, ...row } = updated as typeof updated & { announced?: unknown };
          after = { conversation: row, version };
        }
        done({
          conversation: after,
          released: updated?.processingUntil === null,
          direct,
          announced: this.deps.changeSql !== undefined,
          followUps: result.afterCommit ?? [],
        });
        return replies.ids.length;
      });
    } finally {
      this.transactionSlots.release();
    }
  }

  /**
   * Runs one turn for a stored message; returns the conversation row as the turn left it (null
   * when unknown, e.g. after a failed turn), which the next message's `prepare` reads, and whether
   * the turn released the lease (nothing else was waiting).
   */
  private async processMessage(current: VersionedConversation | null, message: Message): Promise<{ conversation: VersionedConversation | null; released: boolean }> {
    const { db, clock, logger, responder } = this.deps;
    const conversationId = message.conversationId;
    const now = clock.now();
    let wrote = 0;
    let after: VersionedConversation | null = null;
    let released = false;
    let announced = false;
    let direct = false;
    let followUps: (() => Promise<void>)[] = [];
    try {
      if (this.deps.prepareMessage) message = await this.deps.prepareMessage(message);
      let prepared: unknown;
      if (responder.prepare) {
        const [fresh] = current ? [current.conversation] : await db.select().from(conversations).where(eq(conversations.id, conversationId));
        if (fresh) prepared = await responder.prepare({ conversation: fresh, message, now });
      }
      // Without the row in hand (after a failed turn) the turn goes straight to its transaction.
      const grouped = current ? await this.tryGroupCommit(current, message, now, prepared) : null;
      if (grouped) ({ conversation: after, released, wrote, direct, announced, followUps } = grouped);
      else {
        wrote = await this.transactionalTurn(message, now, prepared, (turn) => {
          ({ conversation: after, released, direct, announced, followUps } = turn);
        });
      }
      for (const followUp of followUps) {
        await followUp().catch((err: unknown) => logger.warn({ err, conversationId }, 'turn.follow_up_failed'));
      }
      logger.debug({ conversationId, messageId: message.id, replies: wrote }, 'message.processed');
    } catch (err) {
      // A failing turn must not lose the message or loop forever: apologise and move on.
      logger.error({ err, conversationId, messageId: message.id }, 'message.process_failed');
      after = null;
      released = false;
      announced = false;
      direct = false;
      wrote = await db.transaction(async (tx) => {
        const [conversation] = await tx.select().from(conversations).where(eq(conversations.id, conversationId)).for('no key update');
        if (!conversation) return 0;
        const apology: Reply = { author: 'system', text: apologyText(conversation.locale) };
        const ids = await writeReplies(tx, conversation, [apology], now);
        await tx.update(messages).set({ processedAt: now, deliveryError: errorText(err) }).where(eq(messages.id, message.id));
        return ids.length;
      });
    }
    if (wrote > 0 && direct) this.deps.onDeliveredOnCommit?.(message.channel, wrote);
    else if (wrote > 0) this.deps.onOutbox?.();
    if (!announced) this.deps.onChange?.(conversationId);
    this.deps.onTurnDone?.();
    return { conversation: after, released };
  }
}

interface TurnOutcome {
  conversation: VersionedConversation | null;
  released: boolean;
  wrote: number;
  direct: boolean;
  announced: boolean;
  followUps: (() => Promise<void>)[];
}

/** A counting semaphore whose size may change: at most `limit()` holders, the others wait in arrival order. */
class Slots {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: () => number) {}

  async acquire(): Promise<void> {
    if (this.waiting.length === 0 && this.held < this.limit()) {
      this.held += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    this.held -= 1;
    this.admit();
  }

  /** Lets waiting holders in up to the limit (after a release, or when the limit grew). */
  admit(): void {
    while (this.waiting.length > 0 && this.held < this.limit()) {
      this.held += 1;
      this.waiting.shift()?.();
    }
  }
}

const conversationColumns = getTableColumns(conversations);

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 500);
}

function apologyText(locale: string): string {
  // The one fixed string outside flows/: it is used when loading or running the flows failed.
  if (locale === 'en') return 'Sorry, something went wrong on our side. Please try again, or type "agent" to reach a person.';
  if (locale === 'zh-Hant') return '抱歉，系統出了點問題。請再試一次，或輸入「人工」聯絡客服。';
  return '抱歉，系统出了点问题。请再试一次，或输入“人工”联系客服。';
}

