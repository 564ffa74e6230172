import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Clock } from '../core/ports.js';
import type { Db, Tx } from '../db/client.js';
import { auditLog, conversations, timers } from '../db/schema.js';
import { writeReplies } from '../inbox/write-replies.js';
import type { Logger } from '../logger.js';
import { RETENTION_TIMER_KIND, runRetention } from '../privacy/retention.js';
import { notify } from './cases.js';
import type { HandoffMessages } from './wording.js';

export interface TimerDeps {
  db: Db;
  wording: HandoffMessages;
  /** Timer kinds handled elsewhere (after-sales: merchant deadlines, refund status, expiry sweep). */
  handlers?: Readonly<Record<string, TimerHandler>>;
  /** RETENTION_DAYS: the retention timer masks personal data in older messages; unset = it does nothing. */
  retentionDays?: number | undefined;
}

/** What a timer handler did; `rescheduleAt` keeps the timer for another run instead of firing it. */
export type TimerOutcome = { changed: boolean; wrote?: boolean; rescheduleAt?: Date; conversationId?: string };
export type TimerFire = (tx: Tx, timer: typeof timers.$inferSelect, now: Date) => Promise<TimerOutcome>;

/**
 * A handler that first asks another system (the payment API: has this refund been paid?). The
 * question is asked outside any transaction, with the timer claimed for LOOKUP_CLAIM_MS; the answer
 * is then applied in the timer's transaction. Asked inside it, a slow or absent API held a database
 * connection and the subject's row lock for up to its timeout, once per timer firing.
 */
export interface TimerLookup {
  look(timer: typeof timers.$inferSelect, now: Date): Promise<unknown>;
  fire(tx: Tx, timer: typeof timers.$inferSelect, now: Date, looked: unknown): Promise<TimerOutcome>;
}

export type TimerHandler = TimerFire | TimerLookup;

/** A handler whose `look` runs outside the transaction and whose `fire` applies what it found. */
export function lookupHandler<L>(
  look: (timer: typeof timers.$inferSelect, now: Date) => Promise<L>,
  fire: (tx: Tx, timer: typeof timers.$inferSelect, now: Date, looked: L) => Promise<TimerOutcome>,
): TimerLookup {
  return { look, fire: (tx, timer, now, looked) => fire(tx, timer, now, looked as L) };
}

/**
 * How long a timer stays claimed while its handler asks another system: longer than any API
 * timeout. A process that dies meanwhile leaves the timer to be fired again after it.
 */
export const LOOKUP_CLAIM_MS = 60_000;

const BUILT_IN_KINDS = ['sla.first_response.warn', 'sla.resolution.warn', 'sla.first_response.breach', 'sla.resolution.breach', 'case.followup', RETENTION_TIMER_KIND];

/** What one evaluation did: timers fired, and the conversations they changed. */
export interface TimerRun {
  fired: number;
  byKind: Record<string, number>;
  conversationIds: string[];
}

type TimerRow = typeof timers.$inferSelect;
type Outcome = TimerOutcome;

async function audit(tx: Tx, action: string, conversationId: string, data: Record<string, unknown>, now: Date) {
  await tx.insert(auditLog).values({ actorType: 'system', action, subjectType: 'conversation', subjectId: conversationId, data, createdAt: now });
}

async function handle(deps: TimerDeps, tx: Tx, timer: TimerRow, now: Date, looked?: { value: unknown }): Promise<Outcome> {
  // Not about a conversation: the data-retention run (src/privacy/retention.ts).
  if (timer.kind === RETENTION_TIMER_KIND) {
    if (deps.retentionDays !== undefined) await runRetention(tx, now, deps.retentionDays);
    return { changed: false };
  }
  const handler = deps.handlers?.[timer.kind];
  if (typeof handler === 'function') return handler(tx, timer, now);
  if (handler) {
    if (!looked) throw new Error(`timer ${timer.kind} fired without its lookup`);
    return handler.fire(tx, timer, now, looked.value);
  }
  const [c] = await tx.select().from(conversations).where(eq(conversations.id, timer.subjectId)).for('update');
  if (!c) return { changed: false };
  const open = c.status === 'waiting' || c.status === 'assigned';
  switch (timer.kind) {
    case 'sla.first_response.warn':
    case 'sla.resolution.warn': {
      const deadline = timer.kind === 'sla.first_response.warn' ? 'first_response' : 'resolution';
      if (!open || (deadline === 'first_response' && c.firstHumanReplyAt !== null)) return { changed: false };
      const dueAt = deadline === 'first_response' ? c.firstResponseDueAt : c.resolutionDueAt;
      // The owner is warned; an unowned case warns the managers, who watch the waiting queue.
      await notify(
        tx,
        c.ownerAgentId
          ? { audience: 'agent', agentId: c.ownerAgentId, kind: 'sla.warning', conversationId: c.id, data: { deadline, dueAt } }
          : { audience: 'managers', kind: 'sla.warning', conversationId: c.id, data: { deadline, dueAt } },
        now,
      );
      await audit(tx, 'sla.warning', c.id, { deadline, owner: c.ownerAgentId }, now);
      return { changed: true };
    }
    case 'sla.first_response.breach':
    case 'sla.resolution.breach': {
      const deadline = timer.kind === 'sla.first_response.breach' ? 'first_response' : 'resolution';
      const dueAt = deadline === 'first_response' ? c.firstResponseDueAt : c.resolutionDueAt;
      const met = deadline === 'first_response' ? c.firstHumanReplyAt !== null : false;
      if (!open || met || dueAt === null || dueAt > now) return { changed: false };
      // The backstop: the case goes to the manager queue; the owner keeps it (never silently replaced).
      await tx.update(conversations).set({ escalated: true, updatedAt: now }).where(eq(conversations.id, c.id));
      await notify(tx, { audience: 'managers', kind: 'sla.breach', conversationId: c.id, data: { deadline, dueAt, owner: c.ownerAgentId } }, now);
      if (c.ownerAgentId) {
        await notify(tx, { audience: 'agent', agentId: c.ownerAgentId, kind: 'sla.breach', conversationId: c.id, data: { deadline, dueAt } }, now);
      }
      await audit(tx, 'sla.breach', c.id, { deadline, owner: c.ownerAgentId, escalated: true }, now);
      return { changed: true };
    }
    case 'case.followup': {
      const ticket = typeof timer.payload.ticketNumber === 'string' ? timer.payload.ticketNumber : '';
      await writeReplies(tx, c, [{ author: 'system', text: deps.wording.followup[c.locale].replaceAll('{ticket}', ticket) }], now);
      await audit(tx, 'case.followup', c.id, { ticket }, now);
      return { changed: true, wrote: true };
    }
    default:
      return { changed: false };
  }
}

/** One timer that fired, reported as its transaction commits. */
export interface FiredTimer {
  kind: string;
  /** The conversation it changed, if it changed one. */
  conversationId: string | null;
  /** Whether it wrote a consumer message (the outbox should be kicked). */
  wrote: boolean;
}

export interface TimerRunOptions {
  /** Most timers one run fires. */
  limit?: number;
  /**
   * Timers fired at once, each in its own transaction. A burst (a payment batch settling hundreds
   * of refunds) otherwise waits out one transaction and one payment API answer after another;
   * PGlite has a single connection, so it gains nothing there.
   */
  concurrency?: number;
  /** Called as each timer's transaction commits: the outbox and live views need not wait for the whole run. */
  onFired?: (fired: FiredTimer) => Promise<void> | void;
}

/** How long a timer whose handler failed waits before it is tried again (it does not hold up the rest). */
export const FAILED_TIMER_RETRY_MS = 60_000;

/**
 * Fires every timer due, one per transaction, each claimed with FOR UPDATE SKIP LOCKED so several
 * instances (or a CLI run beside a server) never fire one twice.
 *
 * `now` as a Date fires what is due as of that time and stamps what it writes with it (`kefu sla
 * run --now`, tests). As a function it is read again for each timer: a long run stamps each
 * notice with when it was written, not with when the run began, and fires timers that fall due
 * while it runs.
 *
 * A timer whose handler throws (a bug, a payment API that is away) is put back by
 * FAILED_TIMER_RETRY_MS and the run goes on: one broken timer does not hold up every deadline due
 * after it. When the database is away, putting it back fails too, and that ends the run.
 */
export async function runDueTimers(deps: TimerDeps & { logger?: Logger }, now: Date | (() => Date), options: TimerRunOptions = {}): Promise<TimerRun> {
  const { limit = 500, concurrency = 1 } = options;
  const run: TimerRun = { fired: 0, byKind: {}, conversationIds: [] };
  const kinds = [...BUILT_IN_KINDS, ...Object.keys(deps.handlers ?? {})];
  const clock = typeof now === 'function' ? now : () => now;
  let claimed = 0;
  let stop = false;
  const lane = async (): Promise<void> => {
    while (!stop && claimed < limit) {
      claimed += 1;
      const at = clock();
      const outcome = await fireOne(deps, kinds, at);
      if (outcome === null) break;
      if (outcome === 'failed' || outcome === 'lost') continue;
      run.fired += 1;
      run.byKind[outcome.timer.kind] = (run.byKind[outcome.timer.kind] ?? 0) + 1;
      const changedId = outcome.result.changed ? (outcome.result.conversationId ?? outcome.timer.subjectId) : null;
      if (changedId !== null && !run.conversationIds.includes(changedId)) run.conversationIds.push(changedId);
      await options.onFired?.({ kind: outcome.timer.kind, conversationId: changedId, wrote: outcome.result.wrote === true });
    }
  };
  const lanes = Array.from({ length: Math.max(1, concurrency) }, () =>
    lane().catch((err: unknown) => {
      stop = true;
      throw err;
    }),
  );
  const settled = await Promise.allSettled(lanes);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return run;
}

/**
 * Claims and fires the next due timer; null when none is due, 'failed' when its handler threw (it
 * was put back), 'lost' when another run took it over while its lookup ran.
 */
async function fireOne(
  deps: TimerDeps & { logger?: Logger },
  kinds: string[],
  now: Date,
): Promise<{ timer: TimerRow; result: Outcome } | null | 'failed' | 'lost'> {
  let claimedTimer: TimerRow | undefined;
  try {
    const claimed = await deps.db.transaction(async (tx) => {
      const [timer] = await tx
        .select()
        .from(timers)
        // Only kinds this run can handle: a run without the after-sales handlers leaves theirs alone.
        .where(and(isNull(timers.firedAt), isNull(timers.cancelledAt), lte(timers.dueAt, now), inArray(timers.kind, kinds)))
        .orderBy(asc(timers.dueAt), asc(timers.id))
        .limit(1)
        .for('update', { skipLocked: true });
      if (!timer) return null;
      claimedTimer = timer;
      const handler = deps.handlers?.[timer.kind];
      if (handler && typeof handler !== 'function') {
        // Claimed for the lookup, which runs after this commit.
        const until = new Date(now.getTime() + LOOKUP_CLAIM_MS);
        await tx.update(timers).set({ dueAt: until }).where(eq(timers.id, timer.id));
        return { phase: 'lookup' as const, timer, lookup: handler, until };
      }
      return { phase: 'fired' as const, timer, result: await fired(deps, tx, timer, now) };
    });
    if (claimed === null) return null;
    if (claimed.phase === 'fired') return { timer: claimed.timer, result: claimed.result };
    const { timer, lookup, until } = claimed;
    const looked = await lookup.look(timer, now);
    const result = await deps.db.transaction(async (tx) => {
      // Still ours: not fired, cancelled or claimed again since (the claim outlived a stalled process).
      const [still] = await tx
        .select()
        .from(timers)
        .where(and(eq(timers.id, timer.id), isNull(timers.firedAt), isNull(timers.cancelledAt), eq(timers.dueAt, until)))
        .for('update', { skipLocked: true });
      if (!still) return null;
      return fired(deps, tx, still, now, { value: looked });
    });
    // Taken over meanwhile: whoever holds it now fires it.
    return result === null ? 'lost' : { timer, result };
  } catch (err) {
    // Before a timer was claimed: the database is away. Putting it back fails too when it is.
    if (claimedTimer === undefined) throw err;
    const timer = claimedTimer;
    deps.logger?.error({ err, timerId: timer.id, kind: timer.kind }, 'timers.fire_failed');
    await deps.db
      .update(timers)
      .set({ dueAt: new Date(now.getTime() + FAILED_TIMER_RETRY_MS) })
      .where(and(eq(timers.id, timer.id), isNull(timers.firedAt)));
    return 'failed';
  }
}

/** Runs a claimed timer's handler in its transaction and records it as fired (or due again later). */
async function fired(deps: TimerDeps, tx: Tx, timer: TimerRow, now: Date, looked?: { value: unknown }): Promise<Outcome> {
  const result = await handle(deps, tx, timer, now, looked);
  await tx
    .update(timers)
    .set(result.rescheduleAt ? { dueAt: result.rescheduleAt } : { firedAt: now })
    .where(eq(timers.id, timer.id));
  return result;
}

/** Evaluates due timers every `pollMs` in the background; started with the service. */
export class TimerWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: TimerDeps & {
      clock: Clock;
      logger: Logger;
      pollMs: number;
      /** Timers fired at once (TIMER_CONCURRENCY). */
      concurrency?: number;
      onFired?: (fired: FiredTimer) => Promise<void> | void;
    },
  ) {}

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.timer = setTimeout(() => {
        this.running = this.runOnce()
          .catch((err: unknown) => this.deps.logger.error({ err }, 'timers.run_failed'))
          .finally(() => {
            if (this.timer) tick();
          });
      }, this.deps.pollMs);
      this.timer.unref();
    };
    tick();
  }

  /** Evaluates every timer due now (each as of the moment it fires), or as of `now` when given. */
  async runOnce(now?: Date): Promise<TimerRun> {
    const { clock, concurrency, onFired } = this.deps;
    const run = await runDueTimers(this.deps, now ?? (() => clock.now()), { ...(concurrency ? { concurrency } : {}), ...(onFired ? { onFired } : {}) });
    if (run.fired > 0) this.deps.logger.info({ fired: run.fired, byKind: run.byKind }, 'timers.fired');
    return run;
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}

/** Number of timers still pending (for `kefu sla run` output). */
export async function pendingTimers(db: Db): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(timers)
    .where(and(isNull(timers.firedAt), isNull(timers.cancelledAt)));
  return Number(row?.n ?? 0);
}
