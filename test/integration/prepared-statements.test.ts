import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, type DbOrTx, openDatabase } from '../../src/db/client.js';
import { customers } from '../../src/db/schema.js';
import { backends } from '../support/db.js';
import { withDatabase } from '../support/global-setup.js';

// Drizzle sends its builder's queries unprepared, so PostgreSQL parsed and planned each one on every
// call: planning the order lookup cost the server more than running it. The database handle makes
// every statement prepared, in transactions and savepoints too. One connection, so the statements
// prepared by the queries below are the ones pg_prepared_statements lists.
describe.runIf(backends().includes('postgres'))('statements on PostgreSQL are prepared once per connection', () => {
  const url = process.env.TEST_DATABASE_URL ?? '';
  const name = `kefu_prep_${randomBytes(5).toString('hex')}`;
  let database: Database;
  let customerId = '';

  beforeAll(async () => {
    const admin = postgres(url, { onnotice: () => {}, max: 1 });
    await admin.unsafe(`create database ${name} template ${inject('postgresTemplate')}`);
    await admin.end();
    database = await openDatabase({ kind: 'postgres', url: withDatabase(url, name) }, { maxConnections: 1 });
    const [row] = await database.db.insert(customers).values({ name: '王秀兰', locale: 'zh-Hans' }).returning({ id: customers.id });
    customerId = row?.id ?? '';
  });

  afterAll(async () => {
    await database?.close();
    const admin = postgres(url, { onnotice: () => {}, max: 1 });
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  });

  /** The customer's name, read through a statement whose text carries `marker` (an SQL comment). */
  const lookup = (db: DbOrTx, marker: string) =>
    db.select({ name: customers.name, at: sql<number>`${sql.raw(`1 /* ${marker} */`)}` }).from(customers).where(eq(customers.id, customerId));

  /** The prepared statements whose text carries `marker`, and how often the server ran them. */
  async function prepared(marker: string): Promise<{ statements: number; runs: number }> {
    const rows = (await database.db.execute(
      sql`select count(*)::int as statements, coalesce(sum(generic_plans + custom_plans), 0)::int as runs
          from pg_prepared_statements where statement like ${`%/* ${marker} */%`}`,
    )) as unknown as { statements: number; runs: number }[];
    return { statements: Number(rows[0]?.statements), runs: Number(rows[0]?.runs) };
  }

  it('runs a query built with drizzle seven times on one prepared statement', async () => {
    for (let i = 0; i < 7; i += 1) expect(await lookup(database.db, 'seven-times')).toEqual([{ name: '王秀兰', at: 1 }]);
    expect(await prepared('seven-times')).toEqual({ statements: 1, runs: 7 });
  });

  it('prepares the statements of a transaction and of a savepoint inside it', async () => {
    await database.db.transaction(async (tx) => {
      expect(await lookup(tx, 'in-transaction')).toEqual([{ name: '王秀兰', at: 1 }]);
      await tx.transaction(async (inner) => {
        expect(await lookup(inner, 'in-savepoint')).toEqual([{ name: '王秀兰', at: 1 }]);
      });
    });
    expect(await prepared('in-transaction')).toEqual({ statements: 1, runs: 1 });
    expect(await prepared('in-savepoint')).toEqual({ statements: 1, runs: 1 });
  });
});
