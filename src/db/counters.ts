import { sql } from 'drizzle-orm';
import { type DbOrTx, rowsOf } from './client.js';
import { counters } from './schema.js';

/** Atomically takes the next value of a named counter (ticket numbers and the like). */
export async function nextCounter(db: DbOrTx, name: string): Promise<number> {
  const result = await db.execute(sql`
    insert into ${counters} (name, value) values (${name}, 1)
    on conflict (name) do update set value = ${counters.value} + 1
    returning value`);
  const value = rowsOf<{ value: number }>(result)[0]?.value;
  if (value === undefined) throw new Error(`counter ${name} returned no value`);
  return Number(value);
}

/** A human-friendly ticket number: prefix, UTC date and a running number, e.g. `T20261122-0042`. */
export async function nextTicketNumber(db: DbOrTx, prefix: string, now: Date): Promise<string> {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  const n = await nextCounter(db, `${prefix}:${day}`);
  return `${prefix}${day}-${String(n).padStart(4, '0')}`;
}
