import { randomUUID } from 'node:crypto';
import { asc, eq, inArray } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { FAILED_TIMER_RETRY_MS, type FiredTimer, LOOKUP_CLAIM_MS, lookupHandler, runDueTimers, type TimerHandler } from '../../src/console/sla.js';
import { loadHandoffMessages } from '../../src/console/wording.js';
import type { Database } from '../../src/db/client.js';
import { timers } from '../../src/db/schema.js';
import { captureLogger } from '../support/llm.js';
import { type BackendName, backends, freshDatabase } from '../support/db.js';

// A payment batch settles hundreds of refunds at once, and each refund's paid-check timer tells
// its consumer. The worker fired them one transaction after another and stamped every notice with
// the moment the run began: in the bench, 172 "refund paid" notices stamped 10:22:48 reached their
// chats 10 to 25 s later, and the outbox was kicked only once the whole run was over.
const wording = loadHandoffMessages();
const KIND = 'test.burst';
const T0 = new Date('2026-12-07T10:00:00Z');
const MIN = 60_000;

async function seedTimers(database: Database, count: number, dueAt: (i: number) => Date = () => T0): Promise<string[]> {
  const subjects = Array.from({ length: count }, () => randomUUID());
  await database.db.insert(timers).values(subjects.map((subjectId, i) => ({ kind: KIND, subjectId, dueAt: dueAt(i), createdAt: T0 })));
  return subjects;
}

describe.each(backends())('timer runs on %s', (backend: BackendName) => {
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('stamp each timer with the moment it fires and fire timers that fall due during the run', async () => {
    database = await freshDatabase(backend);
    // The third falls due a minute after the run began.
    const subjects = await seedTimers(database, 3, (i) => new Date(T0.getTime() + (i === 2 ? MIN : 0)));
    let tick = 0;
    const seen: { subject: string; now: Date }[] = [];
    const handler: TimerHandler = async (_tx, timer, now) => {
      seen.push({ subject: timer.subjectId, now });
      return { changed: false };
    };
    // A clock that moves on a minute each time the run reads it.
    const run = await runDueTimers({ db: database.db, wording, handlers: { [KIND]: handler } }, () => new Date(T0.getTime() + tick++ * MIN));
    expect(run.fired).toBe(3);
    const rows = await database.db.select().from(timers).where(inArray(timers.subjectId, subjects)).orderBy(asc(timers.id));
    const stamps = rows.map((r) => r.firedAt?.getTime());
    expect(new Set(stamps).size).toBe(3);
    for (const { subject, now } of seen) expect(rows.find((r) => r.subjectId === subject)?.firedAt).toEqual(now);
  });

  it('a fixed time (kefu sla run --now) fires only what is due by then', async () => {
    database = await freshDatabase(backend);
    await seedTimers(database, 3, (i) => new Date(T0.getTime() + i * MIN));
    const handler: TimerHandler = async () => ({ changed: false });
    const run = await runDueTimers({ db: database.db, wording, handlers: { [KIND]: handler } }, new Date(T0.getTime() + MIN));
    expect(run.fired).toBe(2);
    const pending = await database.db.select().from(timers).where(eq(timers.kind, KIND));
    expect(pending.filter((t) => t.firedAt === null)).toHaveLength(1);
    expect(pending.filter((t) => t.firedAt !== null).every((t) => t.firedAt?.getTime() === T0.getTime() + MIN)).toBe(true);
  });

  it('report each timer as it commits, not when the whole run is over', async () => {
    database = await freshDatabase(backend);
    const subjects = await seedTimers(database, 5);
    const reported: FiredTimer[] = [];
    const reportedBefore: number[] = [];
    const handler: TimerHandler = async (_tx, timer) => {
      reportedBefore.push(reported.length);
      return { changed: true, wrote: true, conversationId: timer.subjectId };
    };
    await runDueTimers({ db: database.db, wording, handlers: { [KIND]: handler } }, T0, { onFired: (f) => void reported.push(f) });
    // The fifth timer fired after the first four had been reported (the outbox kicked for each).
    expect(reportedBefore).toEqual([0, 1, 2, 3, 4]);
    expect(reported.map((r) => r.conversationId).sort()).toEqual([...subjects].sort());
    expect(reported.every((r) => r.wrote && r.kind === KIND)).toBe(true);
  });

  it('put back a timer whose handler fails and fire the ones due after it', async () => {
    database = await freshDatabase(backend);
    const [broken, ...rest] = await seedTimers(database, 4, (i) => new Date(T0.getTime() + i * 1000));
    const { logger, lines } = captureLogger();
    const handler: TimerHandler = async (_tx, timer) => {
      if (timer.subjectId === broken) throw new Error('payment API answered 502');
      return { changed: false };
    };
    const at = new Date(T0.getTime() + MIN);
    const run = await runDueTimers({ db: database.db, wording, handlers: { [KIND]: handler }, logger }, at);
    expect(run.fired).toBe(3);
    const rows = await database.db.select().from(timers).where(eq(timers.kind, KIND));
    for (const subject of rest) expect(rows.find((r) => r.subjectId === subject)?.firedAt).toEqual(at);
    const failed = rows.find((r) => r.subjectId === broken);
    expect(failed?.firedAt).toBeNull();
    expect(failed?.dueAt).toEqual(new Date(at.getTime() + FAILED_TIMER_RETRY_MS));
    expect(lines().find((l) => l.msg === 'timers.fire_failed')).toMatchObject({ kind: KIND });
    // Due again later, it fires then.
    const later = await runDueTimers({ db: database.db, wording, handlers: { [KIND]: async () => ({ changed: false }) } }, new Date(at.getTime() + FAILED_TIMER_RETRY_MS));
    expect(later.fired).toBe(1);
  });
  // The refund paid-check asks the payment API. Asked inside the timer's transaction, an API that
  // answers slowly (or times out) held a database connection and the refund's row lock meanwhile.
  it('ask another system outside any transaction, with the timer claimed meanwhile', async () => {
    database = await freshDatabase(backend);
    const db = database.db;
    const [subject] = await seedTimers(database, 1);
    let answer: (paid: boolean) => void = () => {};
    let asking = false;
    const fired: boolean[] = [];
    const handler = lookupHandler(
      () => {
        asking = true;
        return new Promise<boolean>((resolve) => (answer = resolve));
      },
      async (_tx, _timer, _now, paid) => {
        fired.push(paid);
        return { changed: false };
      },
    );
    const run = runDueTimers({ db, wording, handlers: { [KIND]: handler } }, T0);
    await expect.poll(() => asking).toBe(true);
    // While the API has not answered, the timer's row is free (on PGlite any open transaction
    // would hold every other statement) …
    const touch = db.update(timers).set({ payload: { touched: true } }).where(eq(timers.subjectId, subject!));
    const outcome = await Promise.race([touch.then(() => 'updated'), new Promise((resolve) => setTimeout(() => resolve('blocked'), 2000))]);
    expect(outcome).toBe('updated');
    // … and claimed: another run at the same moment does not fire it.
    const other = await runDueTimers({ db, wording, handlers: { [KIND]: handler } }, T0);
    expect(other.fired).toBe(0);
    const [claimed] = await db.select().from(timers).where(eq(timers.subjectId, subject!));
    expect(claimed?.dueAt).toEqual(new Date(T0.getTime() + LOOKUP_CLAIM_MS));
    answer(true);
    expect((await run).fired).toBe(1);
    expect(fired).toEqual([true]);
    const [after] = await db.select().from(timers).where(eq(timers.subjectId, subject!));
    expect(after?.firedAt).toEqual(T0);
  });

  it('leave a timer taken over during its lookup to whoever took it', async () => {
    database = await freshDatabase(backend);
    const db = database.db;
    const [subject] = await seedTimers(database, 1);
    const fired: string[] = [];
    const handler = lookupHandler(
      async () => {
        // Meanwhile the claim ran out and another run claimed the timer again.
        await db.update(timers).set({ dueAt: new Date(T0.getTime() + 2 * LOOKUP_CLAIM_MS) }).where(eq(timers.subjectId, subject!));
        return 'answer';
      },
      async (_tx, timer) => {
        fired.push(timer.subjectId);
        return { changed: false };
      },
    );
    const run = await runDueTimers({ db, wording, handlers: { [KIND]: handler } }, T0);
    expect(run.fired).toBe(0);
    expect(fired).toEqual([]);
    const [row] = await db.select().from(timers).where(eq(timers.subjectId, subject!));
    expect(row?.firedAt).toBeNull();
  });
});

describe.runIf(backends().includes('postgres'))('timer bursts on PostgreSQL', () => {
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('fire several timers at once, each exactly once', async () => {
    database = await freshDatabase('postgres');
    const subjects = await seedTimers(database, 24);
    let inFlight = 0;
    let most = 0;
    const calls: string[] = [];
    const handler: TimerHandler = async (_tx, timer) => {
      calls.push(timer.subjectId);
      inFlight += 1;
      most = Math.max(most, inFlight);
      // The payment gateway's answer takes a moment.
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight -= 1;
      return { changed: false };
    };
    const run = await runDueTimers({ db: database.db, wording, handlers: { [KIND]: handler } }, T0, { concurrency: 4 });
    expect(run.fired).toBe(24);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(4);
    expect([...calls].sort()).toEqual([...subjects].sort());
  });
});
