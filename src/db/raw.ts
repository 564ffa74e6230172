import { getTableColumns, type Table } from 'drizzle-orm';
import type { Db } from './client.js';

/**
 * Runs one fixed SQL text with values only, through whichever driver the Db wraps: the hot path's
 * statements are written once and prepared by the server, where building them with drizzle cost
 * more CPU per message than running them (see README "Performance"). Cast every parameter from text
 * (`$1::text::uuid`): both drivers then send the strings given, with no type guessing.
 */
export type RawQuery = <T extends Record<string, unknown>>(text: string, params: (string | null)[]) => Promise<T[]>;

interface PostgresJsClient {
  unsafe(text: string, params: (string | null)[], options: { prepare: boolean }): Promise<Record<string, unknown>[]>;
}
interface PgliteClient {
  query(text: string, params: (string | null)[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export function rawQuery(db: Db): RawQuery {
  const client = (db as unknown as { $client?: unknown }).$client;
  if (client && typeof (client as PostgresJsClient).unsafe === 'function') {
    const pg = client as PostgresJsClient;
    return async <T,>(text: string, params: (string | null)[]) => (await pg.unsafe(text, params, { prepare: true })) as T[];
  }
  if (client && typeof (client as PgliteClient).query === 'function') {
    const lite = client as PgliteClient;
    return async <T,>(text: string, params: (string | null)[]) => (await lite.query(text, params)).rows as T[];
  }
  throw new Error('rawQuery: the database handle exposes neither a postgres.js nor a PGlite client');
}

/**
 * A JSON value as a driver hands it back: already parsed (PGlite; postgres.js for json columns) or
 * as text (postgres.js under drizzle, for json built in a statement).
 */
export function fromJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/**
 * Maps a row read by column name (from a raw query, or from a row turned into JSON) to the table's
 * typed shape, the way drizzle maps its own results: each column's driver value through its mapper.
 */
export function rowMapper<T extends Table>(table: T): (raw: Record<string, unknown>) => T['$inferSelect'] {
  const columns = Object.entries(getTableColumns(table));
  return (raw) => {
    const out: Record<string, unknown> = {};
    for (const [key, column] of columns) {
      const v = raw[column.name];
      out[key] = v === null || v === undefined ? null : column.mapFromDriverValue(v);
    }
    return out as T['$inferSelect'];
  };
}
