import { createHash } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { timers } from '../db/schema.js';
import { maskOldMessages } from './customer-data.js';

/** The durable timer (in `timers`) that masks personal data in old messages. */
export const RETENTION_TIMER_KIND = 'privacy.retention';
const BATCH = 500;
const DAY_MS = 24 * 3600_000;

/** A stable subject id per due time: two instances arming the same run write one row. */
function subjectFor(key: string): string {
  const h = createHash('sha256').update(`kefu:retention:${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

async function arm(db: Db | Tx, dueAt: Date, key: string): Promise<void> {
  await db.insert(timers).values({ kind: RETENTION_TIMER_KIND, subjectId: subjectFor(key), dueAt }).onConflictDoNothing();
}

/** Arms the retention run (due now) unless one is already pending; called at service start when RETENTION_DAYS is set. */
export async function armRetention(db: Db, now: Date): Promise<void> {
  const [pending] = await db
    .select({ id: timers.id })
    .from(timers)
    .where(and(eq(timers.kind, RETENTION_TIMER_KIND), isNull(timers.firedAt), isNull(timers.cancelledAt)))
    .limit(1);
  if (!pending) await arm(db, now, `start:${now.toISOString().slice(0, 10)}`);
}

/**
 * One retention run, inside the timer's transaction: masks a batch of messages older than
 * `days`, then arms the next run — in a minute while a backlog is left, else in a day.
 */
export async function runRetention(tx: Tx, now: Date, days: number): Promise<number> {
  const masked = await maskOldMessages(tx, new Date(now.getTime() - days * DAY_MS), now, BATCH);
  const next = new Date(now.getTime() + (masked >= BATCH ? 60_000 : DAY_MS));
  await arm(tx, next, next.toISOString());
  return masked;
}
