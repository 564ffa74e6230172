import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/ports.js';
import type { Database } from '../../src/db/client.js';
import { messages } from '../../src/db/schema.js';
import { Processor } from '../../src/inbox/processor.js';
import { receiveInbound } from '../../src/inbox/receive.js';
import type { Responder } from '../../src/inbox/responder.js';
import { silentLogger } from '../../src/logger.js';
import { backends, freshDatabase } from '../support/db.js';

// A burst of messages on a saturated process: storing and acknowledging them comes first, so only a
// few bot turns run at once; when the pressure eases, the backlog is answered at full width.

describe.each(backends())('bot turns under intake pressure on %s', (backend) => {
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('runs two turns at once under pressure, and the rest as soon as it eases', async () => {
    database = await freshDatabase(backend);
    const db = database.db;
    let running = 0;
    let most = 0;
    const gates: (() => void)[] = [];
    const responder: Responder = {
      async respond() {
        running += 1;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => gates.push(resolve));
        running -= 1;
        return { replies: [{ text: 'answered' }] };
      },
    };
    let underPressure = true;
    const processor = new Processor({
      db,
      clock: systemClock,
      logger: silentLogger,
      responder,
      maxConcurrentTurns: 6,
      turnsUnderPressure: 2,
      intakeUnderPressure: () => underPressure,
    });
    const ids: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      const stored = await receiveInbound({ db, clock: systemClock }, { channel: 'webchat', externalMessageId: `p-${i}/1`, sender: { externalId: `p-${i}`, displayName: null }, text: 'hi' });
      ids.push(stored.conversationId);
    }
    const done = Promise.all(ids.map((id) => processor.schedule(id)));
    await expect.poll(() => running).toBe(2);
    // Finishing one lets the next in, still two at a time.
    gates.shift()?.();
    await expect.poll(() => gates.length).toBe(2);
    expect(running).toBe(2);

    // The pressure eases: the waiting turns start at once, up to the ordinary limit.
    underPressure = false;
    processor.admitTurns();
    await expect.poll(() => running).toBe(6);
    let finished = false;
    void done.then(() => (finished = true));
    while (!finished) {
      for (const open of gates.splice(0)) open();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(most).toBe(6);
    // Every message answered once.
    const replies = await db.select({ conversationId: messages.conversationId }).from(messages).where(eq(messages.direction, 'out'));
    expect(replies.map((r) => r.conversationId).sort()).toEqual([...ids].sort());
  });
});
