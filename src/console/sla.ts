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
export type TimerHandler = (tx: Tx, timer: typeof timers.$inferSelect, now: Date) => Promise<TimerOutcome>;

const BUILT_IN_KINDS = ['sla.first_response.warn', 'sla.resolution.warn', 'sla.first_response.breach', 'sla.resolution.breach', 'case.followup', RETENTION_TIMER_KIND];

/** What one evaluation did: timers fired, and the conversations they changed. */
export interface TimerRun {
  fired: number;
  byKind: Record<string, number>;
  conversationIds: string[];
  /** Whether a consumer message was written (the outbox should be kicked). */
  wroteMessages: boolean;
}

type TimerRow = typeof timers.$inferSelect;
type Outcome = TimerOutcome;

async function audit(tx: Tx, action: string, conversationId: string, data: Record<string, unknown>, now: Date) {
  await tx.insert(auditLog).values({ actorType: 'system', action, subjectType: 'conversation', subjectId: conversationId, data, createdAt: now });
}

async function handle(deps: TimerDeps, tx: Tx, timer: TimerRow, now: Date): Promise<Outcome> {
  // Not about a conversation: the data-retention run (src/privacy/retention.ts).
  if (timer.kind === RETENTION_TIMER_KIND) {
    if (deps.retentionDays !== undefined) await runRetention(tx, now, deps.retentionDays);
    return { changed: false };
  }
  const handler = deps.handlers?.[timer.kind];
  if (handler) return handler(tx, timer, now);
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

/**
 * Fires every timer due as of `now`, one per transaction, each claimed with FOR UPDATE SKIP
 * LOCKED so several instances (or a CLI run beside a server) never fire one twice.
 */
export async function runDueTimers(deps: TimerDeps, now: Date, limit = 500): Promise<TimerRun> {
  const run: TimerRun = { fired: 0, byKind: {}, conversationIds: [], wroteMessages: false };
  const kinds = [...BUILT_IN_KINDS, ...Object.keys(deps.handlers ?? {})];
  for (let i = 0; i < limit; i += 1) {
    const outcome = await deps.db.transaction(async (tx) => {
      const [timer] = await tx
        .select()
        .from(timers)
        // Only kinds this run can handle: a run without the after-sales handlers leaves theirs alone.
        .where(and(isNull(timers.firedAt), isNull(timers.cancelledAt), lte(timers.dueAt, now), inArray(timers.kind, kinds)))
        .orderBy(asc(timers.dueAt), asc(timers.id))
        .limit(1)
        .for('update', { skipLocked: true });
      if (!timer) return null;
      const result = await handle(deps, tx, timer, now);
      await tx
        .update(timers)
        .set(result.rescheduleAt ? { dueAt: result.rescheduleAt } : { firedAt: now })
        .where(eq(timers.id, timer.id));
      return { timer, result };
    });
    if (!outcome) break;
    run.fired += 1;
    run.byKind[outcome.timer.kind] = (run.byKind[outcome.timer.kind] ?? 0) + 1;
    const changedId = outcome.result.conversationId ?? outcome.timer.subjectId;
    if (outcome.result.changed && !run.conversationIds.includes(changedId)) run.conversationIds.push(changedId);
    if (outcome.result.wrote) run.wroteMessages = true;
  }
  return run;
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
      onRun?: (run: TimerRun) => Promise<void> | void;
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

  /** Evaluates every timer due now. */
  async runOnce(now: Date = this.deps.clock.now()): Promise<TimerRun> {
    const run = await runDueTimers(this.deps, now);
    if (run.fired > 0) {
      this.deps.logger.info({ fired: run.fired, byKind: run.byKind }, 'timers.fired');
      await this.deps.onRun?.(run);
    }
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
