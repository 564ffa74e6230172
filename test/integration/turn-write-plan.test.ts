import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, rowsOf } from '../../src/db/client.js';
import { WRITE_SQL } from '../../src/inbox/turn-store.js';
import { backends, freshDatabase } from '../support/db.js';

/**
 * The statement storing finished turns guards each by the version (a digest of the row, state
 * included) of its conversation. PostgreSQL plans it once and keeps the plan; planned while the
 * conversations table was small, it hash-joined the batch with the whole table, and with the
 * version comparison as a hash condition it digested every conversation row for each batch:
 * 7 % of PostgreSQL's CPU in an intake flood. Only the batch's own conversations may be digested.
 */
describe.each(backends())('storing finished turns (%s)', (backend) => {
  let database: Database;
  let batch: string;

  beforeAll(async () => {
    database = await freshDatabase(backend);
    const { db } = database;
    await db.execute(sql`insert into customers (id, name) select gen_random_uuid(), 'plan-' || g from generate_series(1, 300) g`);
    await db.execute(sql`insert into channel_identities (customer_id, channel, external_id)
      select id, 'webchat', 'plan:' || id from customers where name like 'plan-%'`);
    await db.execute(sql`insert into conversations (customer_id, channel_identity_id, channel, status, reply_token)
      select customer_id, id, 'webchat', 'bot', 'plan-' || id from channel_identities where external_id like 'plan:%'`);
    const ids = rowsOf<{ id: string }>(await db.execute(sql`select id from conversations order by id limit 3`));
    batch = JSON.stringify(
      ids.map(({ id }) => ({
        conversation_id: id,
        version: 'v',
        message_id: '00000000-0000-4000-8000-000000000000',
        turn_at: '2026-12-07T00:00:00Z',
        channel: 'webchat',
        delivered: true,
        patch: {},
        replies: [],
        notify_channel: null,
        notify: null,
      })),
    );
  }, 60_000);

  afterAll(async () => {
    await database?.close();
  });

  it('digests only the conversations of the batch, however the planner joins them', async () => {
    // The plan a small table gets: the batch hashed against a scan of the whole table.
    const plan = await database.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_nestloop = off`);
      await tx.execute(sql`set local enable_mergejoin = off`);
      const text = WRITE_SQL.replace('$1::text::json', `'${batch.replaceAll("'", "''")}'::json`);
      return rowsOf<Record<string, string>>(await tx.execute(sql.raw(`explain (verbose) ${text}`)))
        .map((row) => Object.values(row).join(''))
        .join('\n');
    });
    expect(plan).toMatch(/Seq Scan on public\.conversations/);
    const hashConditions = plan.split('\n').filter((line) => line.includes('Hash Cond'));
    expect(hashConditions.length).toBeGreaterThan(0);
    for (const condition of hashConditions) expect(condition).not.toContain('md5');
  });
});
