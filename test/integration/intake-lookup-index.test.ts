import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, rowsOf } from '../../src/db/client.js';
import { backends, freshDatabase } from '../support/db.js';

/**
 * Every inbound message looks up its sender's open conversation (`channel_identity_id = ? and
 * status <> 'closed'`, in the intake statement and the general path). Without an index for it the
 * lookup read the whole conversations table: 0.2 ms became 20 ms a message at 50,000 conversations,
 * and it grows with every conversation ever held. The plan must stay an index scan.
 */
describe.each(backends())('open conversation lookup (%s)', (backend) => {
  let database: Database;

  beforeAll(async () => {
    database = await freshDatabase(backend);
    const { db } = database;
    // 3,000 senders, most of their conversations closed, as on a platform that has run a while.
    await db.execute(sql`insert into customers (id, name) select gen_random_uuid(), 'history-' || g from generate_series(1, 3000) g`);
    await db.execute(sql`insert into channel_identities (customer_id, channel, external_id)
      select id, 'webchat', 'history:' || id from customers where name like 'history-%'`);
    await db.execute(sql`insert into conversations (customer_id, channel_identity_id, channel, status, reply_token)
      select customer_id, id, 'webchat', case when random() < 0.9 then 'closed'::conversation_status else 'bot'::conversation_status end, 'history-' || id
      from channel_identities where external_id like 'history:%'`);
    await db.execute(sql`analyze conversations`);
  }, 60_000);

  afterAll(async () => {
    await database?.close();
  });

  it('reads one index entry, not the table', async () => {
    const [identity] = rowsOf<{ id: string }>(await database.db.execute(sql`select id from channel_identities where external_id like 'history:%' limit 1`));
    const plan = rowsOf<Record<string, string>>(
      await database.db.execute(
        sql`explain select id from conversations where channel_identity_id = ${identity?.id} and status <> 'closed' limit 1`,
      ),
    )
      .map((row) => Object.values(row).join(''))
      .join('\n');
    expect(plan).toContain('conversations_identity_open_idx');
    expect(plan).not.toMatch(/Seq Scan on conversations/);
  });
});
