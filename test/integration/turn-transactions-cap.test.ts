import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/ports.js';
import { type Database, rowsOf } from '../../src/db/client.js';
import { Processor } from '../../src/inbox/processor.js';
import { receiveInbound } from '../../src/inbox/receive.js';
import type { Responder } from '../../src/inbox/responder.js';
import { silentLogger } from '../../src/logger.js';
import { backends, freshDatabase } from '../support/db.js';

// A refund turn asks the payment API inside its transaction (one decision per coupon, under the
// coupons' locks). When that API is slow, each such turn holds a database connection until it
// answers; with 24 turns allowed at once and 10 connections, ten refunds confirmed within one API
// timeout left none for intake: nobody's message could even be stored.
describe.runIf(backends().includes('postgres'))('bot turns holding transactions on PostgreSQL', () => {
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('leave connections for intake while the payment API keeps a dozen refund turns waiting', async () => {
    database = await freshDatabase('postgres');
    const db = database.db;
    let release: () => void = () => {};
    const apiAnswers = new Promise<void>((resolve) => (release = resolve));
    let waiting = 0;
    let most = 0;
    const responder: Responder = {
      async respond({ tx }) {
        // A write: the turn runs in its transaction (like the refund insert), then waits on the API.
        await tx.execute(sql`select 1`);
        waiting += 1;
        most = Math.max(most, waiting);
        await apiAnswers;
        waiting -= 1;
        return { replies: [{ text: '退款成功' }] };
      },
    };
    const processor = new Processor({ db, clock: systemClock, logger: silentLogger, responder, maxConcurrentTurns: 24, maxTurnsInTransaction: 6 });
    const turns: Promise<void>[] = [];
    for (let i = 0; i < 12; i += 1) {
      const stored = await receiveInbound(
        { db, clock: systemClock },
        { channel: 'webchat', externalMessageId: `refund-${i}`, sender: { externalId: `refunder-${i}`, displayName: null }, text: '确认退款' },
      );
      turns.push(processor.schedule(stored.conversationId));
    }
    await expect.poll(() => waiting).toBeGreaterThanOrEqual(6);

    // Another customer's message is stored while those turns wait.
    const intake = receiveInbound(
      { db, clock: systemClock },
      { channel: 'webchat', externalMessageId: 'hello-1', sender: { externalId: 'someone-else', displayName: null }, text: '你好' },
    );
    const outcome = await Promise.race([intake.then(() => 'stored'), new Promise((resolve) => setTimeout(() => resolve('blocked'), 2000))]);
    release();
    await Promise.all(turns);
    await intake;
    expect(outcome).toBe('stored');
    // The other six waited their turn and were answered too.
    expect(most).toBe(6);
    const [answered] = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from messages where direction = 'in' and processed_at is not null`));
    expect(answered?.n).toBe(12);
  });
});
