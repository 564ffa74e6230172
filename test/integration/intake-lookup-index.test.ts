import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, rowsOf } from '../../src/db/client.js';
import { InboundMessage } from '../../src/core/message.js';
import { systemClock } from '../../src/core/ports.js';
import { receiveInbound, upsertIdentity } from '../../src/inbox/receive.js';
import { historyStatement } from '../../src/inbox/webchat-store.js';
import { backends, freshDatabase } from '../support/db.js';

/**
 * Every inbound message looks up its sender's open conversation (`channel_identity_id = ? and
 * status <> 'closed'`, in the intake statement and the general path). Without an index for it the
 * lookup read the whole conversations table: 0.2 ms became 20 ms a message at 50,000 conversations,
 * and it grows with every conversation ever held. Every web chat live stream change reads the
 * sender's history, closed conversations included: after an intake flood that read took 42 ms
 * (every message ever stored was matched against the sender's conversations) and conversations
 * answered four times slower. The plans must stay index scans.
 */
describe.each(backends())('conversation lookups by sender (%s)', (backend) => {
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
    // Ten messages each: 30,000 in all.
    await db.execute(sql`insert into messages (conversation_id, direction, author, channel, text, delivery_status)
      select c.id, case when g % 2 = 0 then 'in'::message_direction else 'out'::message_direction end,
        case when g % 2 = 0 then 'customer'::message_author else 'bot'::message_author end,
        'webchat', 'message ' || g, 'sent'
      from conversations c cross join generate_series(1, 10) g where c.reply_token like 'history-%'`);
    await db.execute(sql`analyze conversations`);
    await db.execute(sql`analyze messages`);
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
    expect(plan).toContain('conversations_identity_idx');
    expect(plan).not.toMatch(/Seq Scan on conversations/);
  });

  it("finds the sender's open conversation with the identity upsert", async () => {
    const { db } = database;
    const first = await receiveInbound({ db, clock: systemClock }, { channel: 'telegram', externalMessageId: 'upsert-1', sender: { externalId: 'upsert-sender', displayName: null }, text: '你好' });
    const inbound = InboundMessage.parse({ channel: 'telegram', externalMessageId: 'upsert-2', sender: { externalId: 'upsert-sender', displayName: null }, text: '在吗' });
    const found = await db.transaction((tx) => upsertIdentity(tx, inbound, new Date()));
    expect(found.id).toBe(first.channelIdentityId);
    expect(found.openConversationId).toBe(first.conversationId);
  });

  it("reads a sender's web chat history through indexes, closed conversations included", async () => {
    const [identity] = rowsOf<{ id: string }>(
      await database.db.execute(sql`select channel_identity_id as id from conversations where status = 'closed' and reply_token like 'history-%' limit 1`),
    );
    const history = historyStatement(identity?.id ?? '', 0, 200);
    const page = rowsOf<{ text: string | null }>(await database.db.execute(history));
    expect(page.map((r) => r.text)).toEqual(Array.from({ length: 10 }, (_, i) => `message ${i + 1}`));
    const plan = rowsOf<Record<string, string>>(await database.db.execute(sql`explain ${history}`))
      .map((row) => Object.values(row).join(''))
      .join('\n');
    expect(plan).toContain('conversations_identity_idx');
    expect(plan).toContain('messages_conversation_idx');
    expect(plan).not.toMatch(/Seq Scan on (conversations|messages)/);
  });
});
