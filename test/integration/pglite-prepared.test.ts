import { PGlite } from '@electric-sql/pglite';
import { eq, sql } from 'drizzle-orm';
import { integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/pglite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.js';
import { PreparedStatements, withPreparedStatements } from '../../src/db/pglite-prepared.js';

const notes = pgTable('notes', {
  id: uuid('id').primaryKey().defaultRandom(),
  title: text('title').notNull(),
  tags: jsonb('tags').$type<string[]>().notNull(),
  stars: integer('stars'),
  at: timestamp('at', { withTimezone: true }).notNull(),
});

/** Named statements of the session (what PGlite keeps prepared), by statement text. */
async function preparedTexts(pg: PGlite): Promise<string[]> {
  const { rows } = await pg.query<{ statement: string }>(`select statement from pg_prepared_statements where not from_sql order by name`);
  return rows.map((r) => r.statement);
}

describe('PGlite statements, prepared once per text', () => {
  let pg: PGlite;
  beforeEach(async () => {
    pg = new PGlite();
    await pg.exec(`create table notes (id uuid primary key default gen_random_uuid(), title text not null unique, tags jsonb not null, stars int, at timestamptz not null)`);
  });
  afterEach(async () => {
    await pg.close();
  });

  it('runs a query built by drizzle many times as one prepared statement, with its values typed as before', async () => {
    const db = drizzle(withPreparedStatements(pg));
    const at = new Date('2026-12-05T08:30:00.000Z');
    await db.insert(notes).values({ title: '退款', tags: ['refund', '优惠券'], stars: null, at });
    for (let i = 0; i < 7; i++) {
      const [row] = await db.select().from(notes).where(eq(notes.title, '退款'));
      expect(row).toMatchObject({ title: '退款', tags: ['refund', '优惠券'], stars: null, at });
    }
    const texts = await preparedTexts(pg);
    expect(texts.filter((t) => t.startsWith('select'))).toHaveLength(1);
    expect(texts.filter((t) => t.startsWith('insert'))).toHaveLength(1);
  });

  it('keeps a statement inside its transaction: seen there, gone after a rollback, refused once closed', async () => {
    const db = drizzle(withPreparedStatements(pg));
    const at = new Date();
    let seenInside = 0;
    let escaped: (() => Promise<unknown>) | null = null;
    await expect(
      db.transaction(async (tx) => {
        await tx.insert(notes).values({ title: 'draft', tags: [], at });
        seenInside = (await tx.select().from(notes)).length;
        escaped = () => tx.select().from(notes);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(seenInside).toBe(1);
    expect(await db.select().from(notes)).toHaveLength(0);
    const late = await (escaped as unknown as () => Promise<unknown>)().then(() => null, (e: unknown) => e);
    expect((late as { cause?: Error }).cause?.message).toBe('Transaction is closed');
  });

  it('reports a database error with its SQLSTATE and the statement, and the session goes on', async () => {
    const db = drizzle(withPreparedStatements(pg));
    await db.insert(notes).values({ title: 'one', tags: [], at: new Date() });
    const err = await db
      .insert(notes)
      .values({ title: 'one', tags: [], at: new Date() })
      .then(() => null, (e: unknown) => e);
    expect((err as { cause?: { code?: string } }).cause?.code).toBe('23505');
    expect(String((err as { cause?: { query?: string } }).cause?.query)).toContain('insert into "notes"');
    expect(await db.select().from(notes)).toHaveLength(1);
  });

  it('prepares again when the statement was deallocated or the table changed shape', async () => {
    const db = drizzle(withPreparedStatements(pg));
    await db.insert(notes).values({ title: 'one', tags: [], at: new Date() });
    expect(rowsOf(await db.execute(sql`select * from notes`))).toHaveLength(1);
    await pg.exec('deallocate all');
    expect(rowsOf(await db.execute(sql`select * from notes`))).toHaveLength(1);
    await pg.exec('alter table notes add column mood text');
    const [row] = rowsOf<Record<string, unknown>>(await db.execute(sql`select * from notes`));
    expect(row).toHaveProperty('mood', null);
  });

  it('delivers a NOTIFY sent by a prepared statement to listeners, once its transaction commits', async () => {
    const client = withPreparedStatements(pg);
    const heard: string[] = [];
    await pg.listen('live', (payload) => heard.push(payload));
    await client.query(`select pg_notify('live', $1)`, ['一']);
    await client.transaction(async (tx) => {
      await tx.query(`select pg_notify('live', $1)`, ['二']);
      expect(heard).toEqual(['一']);
    });
    await expect.poll(() => heard).toEqual(['一', '二']);
  });

  it('keeps at most the given number of statements prepared, closing the least recently used', async () => {
    const statements = new PreparedStatements(pg, 3);
    const client = withPreparedStatements(pg, statements);
    for (const n of [1, 2, 3]) await client.query(`select ${n} as n`);
    await client.query('select 1 as n'); // used again: now the most recent
    await client.query('select 4 as n');
    expect(statements.size).toBe(3);
    expect((await preparedTexts(pg)).sort()).toEqual(['select 1 as n', 'select 3 as n', 'select 4 as n']);
    const { rows } = await client.query<{ n: number }>('select 2 as n');
    expect(rows).toEqual([{ n: 2 }]);
  });
});
