import { eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/ports.js';
import type { Database } from '../../src/db/client.js';
import { merchants, messages } from '../../src/db/schema.js';
import { Processor } from '../../src/inbox/processor.js';
import { receiveInbound } from '../../src/inbox/receive.js';
import type { Responder } from '../../src/inbox/responder.js';
import { silentLogger } from '../../src/logger.js';
import { backends, freshDatabase } from '../support/db.js';

// Every complaint against a merchant updates that merchant's counter. When a merchant closes, many
// consumers complain at once: a counter update taken early in a turn held the merchant's row lock
// through the rest of the turn, and the other complaint turns queued behind it (30 ms a wait in the
// bench). A write left for the end of the turn holds the lock only until the commit.
describe.runIf(backends().includes('postgres'))('writes left for the end of a bot turn on PostgreSQL', () => {
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('lock the shared row only at the end of the turn, and commit with it', async () => {
    database = await freshDatabase('postgres');
    const db = database.db;
    const [merchant] = await db
      .insert(merchants)
      .values({ name: '金玉满堂', category: 'food', city: '上海', address: '南京西路 1 号', phone: '021-1234567' })
      .returning({ id: merchants.id });
    const merchantId = merchant?.id ?? '';
    let release: () => void = () => {};
    const restOfTurn = new Promise<void>((resolve) => (release = resolve));
    let deciding = false;
    const responder: Responder = {
      async respond({ tx }) {
        // A statement of its own makes the turn run in its transaction (like the complaint insert),
        // which leaves the counter for its end.
        await tx.execute(sql`select 1`);
        deciding = true;
        await restOfTurn;
        return {
          replies: [{ text: '已记录您的投诉' }],
          lastWrites: [(last) => last.update(merchants).set({ complaintCount: sql`${merchants.complaintCount} + 1` }).where(eq(merchants.id, merchantId))],
        };
      },
    };
    const processor = new Processor({ db, clock: systemClock, logger: silentLogger, responder });
    const stored = await receiveInbound(
      { db, clock: systemClock },
      { channel: 'webchat', externalMessageId: 'complaint-1', sender: { externalId: 'complainer', displayName: null }, text: '我要投诉' },
    );
    const turn = processor.schedule(stored.conversationId);
    await expect.poll(() => deciding).toBe(true);

    // Another turn's update of the same merchant goes through while this turn is still deciding.
    const other = db.update(merchants).set({ complaintCount: sql`${merchants.complaintCount} + 1` }).where(eq(merchants.id, merchantId));
    const outcome = await Promise.race([other.then(() => 'updated'), new Promise((resolve) => setTimeout(() => resolve('blocked'), 2000))]);
    expect(outcome).toBe('updated');

    release();
    await turn;
    const [after] = await db.select({ count: merchants.complaintCount }).from(merchants).where(eq(merchants.id, merchantId));
    expect(after?.count).toBe(2);
    const replies = await db.select({ text: messages.text }).from(messages).where(eq(messages.direction, 'out'));
    expect(replies.map((r) => r.text)).toEqual(['已记录您的投诉']);
  });
});
