import { PGlite } from '@electric-sql/pglite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { maintainPglite, PGLITE_STATISTICS_TARGET, startPgliteMaintenance } from '../../src/db/pglite-maintenance.js';
import { silentLogger } from '../../src/logger.js';

interface TableState {
  reltuples: number;
  dead: number;
  analyzed: boolean;
}

async function state(pg: PGlite, table: string): Promise<TableState> {
  await pg.query('select pg_stat_force_next_flush()');
  const { rows } = await pg.query<TableState>(
    `select c.reltuples::float8 as reltuples, s.n_dead_tup::float8 as dead, s.last_analyze is not null as analyzed
       from pg_stat_user_tables s join pg_class c on c.oid = s.relid where s.relname = $1`,
    [table],
  );
  const [row] = rows;
  if (!row) throw new Error(`no table ${table}`);
  return row;
}

describe('PGlite maintenance (autovacuum for a database without one)', () => {
  let pg: PGlite;
  beforeEach(async () => {
    pg = new PGlite();
    await pg.exec(`
      create table messages (id serial primary key, conversation int not null, processed boolean);
      create index messages_pending on messages (conversation) where processed is null;
      create table quiet (id int primary key);
      analyze;`);
  });
  afterEach(async () => {
    await pg.close();
  });

  it('analyzes and vacuums a table that grew, and leaves alone the ones that did not change', async () => {
    await pg.query('insert into messages (conversation) select g % 500 from generate_series(1, 5000) g');
    expect((await state(pg, 'messages')).reltuples).toBeLessThan(1); // the planner still thinks it empty
    const pass = await maintainPglite(pg);
    expect(pass).toEqual({ vacuumed: ['messages'], analyzed: ['messages'] });
    const after = await state(pg, 'messages');
    expect(after.reltuples).toBe(5000);
    expect(after.analyzed).toBe(true);
    expect(await maintainPglite(pg)).toEqual({ vacuumed: [], analyzed: [] });
  });

  it('vacuums away the dead rows that updates leave', async () => {
    await pg.query('insert into messages (conversation) select g % 500 from generate_series(1, 5000) g');
    await maintainPglite(pg);
    await pg.query('update messages set processed = true where id % 2 = 0');
    expect((await state(pg, 'messages')).dead).toBe(2500);
    expect((await maintainPglite(pg)).vacuumed).toEqual(['messages']);
    expect((await state(pg, 'messages')).dead).toBe(0);
  });

  // PGlite analyzes on the service's own thread: a 30,000-row sample (the default target) held every
  // request 136–261 ms in a flood. A small sample still gives the planner the right row count.
  it('analyzes from a small sample, with the row count still right', async () => {
    await pg.query('insert into messages (conversation) select g % 5000 from generate_series(1, 40000) g');
    await maintainPglite(pg);
    expect((await state(pg, 'messages')).reltuples).toBe(40000);
    const { rows } = await pg.query<{ bounds: number }>(
      `select array_length(histogram_bounds, 1) as bounds from pg_stats where tablename = 'messages' and attname = 'id'`,
    );
    // A histogram of at most target + 1 bounds (101 with the default target).
    expect(rows[0]?.bounds).toBeLessThanOrEqual(PGLITE_STATISTICS_TARGET + 1);
    expect(rows[0]?.bounds).toBeGreaterThan(1);
  });

  it('runs on its own every interval until stopped', async () => {
    const maintenance = startPgliteMaintenance(pg, 50, silentLogger);
    await pg.query('insert into messages (conversation) select g % 500 from generate_series(1, 5000) g');
    await expect.poll(async () => (await state(pg, 'messages')).reltuples, { timeout: 5000, interval: 50 }).toBe(5000);
    await maintenance.stop();
    await pg.query('insert into messages (conversation) select g % 500 from generate_series(1, 5000) g');
    await new Promise((r) => setTimeout(r, 300));
    expect((await state(pg, 'messages')).reltuples).toBe(5000);
  });
});
