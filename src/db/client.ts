import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { type ExtractTablesWithRelations, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { DatabaseTarget } from '../config.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../logger.js';
import { startPgliteMaintenance } from './pglite-maintenance.js';
import { withPreparedStatements } from './pglite-prepared.js';
import * as schema from './schema.js';

export type Schema = typeof schema;
/** The drizzle database both drivers share; repositories take this, never a driver type. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle, usable wherever a Db is. */
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Either the database or an open transaction. */
export type DbOrTx = Db | Tx;

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../migrations');

/** An open database plus what differs between drivers: closing, and cross-instance notifications. */
export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Db;
  /** Publishes a notification to every instance listening on `channel` (Postgres NOTIFY). */
  notify(channel: string, payload: string): Promise<void>;
  /** Subscribes to notifications; returns an unsubscribe function. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** PGlite only: vacuums and analyzes tables every `intervalMs`, as PostgreSQL's autovacuum does (pglite-maintenance.ts). */
  startMaintenance?(intervalMs: number, logger: Logger): { stop(): Promise<void> };
  close(): Promise<void>;
}

export interface OpenOptions {
  /** A PGlite data directory dump (from `dumpDataDir`) to start from: the migrated test template. */
  loadDataDir?: Blob;
  /** Pool size for PostgreSQL. */
  maxConnections?: number;
  /** Seconds to wait for a PostgreSQL connection (default 1.5). */
  connectTimeoutSeconds?: number;
  /** PostgreSQL statement_timeout in ms (default 15000). */
  statementTimeoutMs?: number;
  /** Called with the text of every statement sent to PostgreSQL (the benchmark counts round trips). */
  onQuery?: (statement: string) => void;
}

/** Opens the configured database. PGlite directories are locked against a second process. */
export async function openDatabase(target: DatabaseTarget, options: OpenOptions = {}): Promise<Database> {
  if (target.kind === 'postgres') return openPostgres(target.url, options);
  return openPglite(target.dataDir, options);
}

async function openPostgres(url: string, options: OpenOptions): Promise<Database> {
  const client = postgres(url, {
    max: options.maxConnections ?? 10,
    onnotice: () => {},
    // A database that does not answer must turn into a 503 within 2 s, not a request that hangs:
    // give up connecting after 1.5 s, drop idle connections (a silently dead one would hang the
    // next query), and let no statement run longer than 15 s.
    connect_timeout: options.connectTimeoutSeconds ?? 1.5,
    idle_timeout: 30,
    connection: { statement_timeout: options.statementTimeoutMs ?? 15_000 },
    ...(options.onQuery ? { debug: (_connection: number, statement: string) => options.onQuery?.(statement) } : {}),
  });
  // Drizzle's driver classes share PgDatabase; only their result-type parameter differs.
  const db: Db = drizzlePostgres(preparedStatements(client), { schema }) as unknown as Db;
  const unlisteners = new Set<() => Promise<void>>();
  return {
    kind: 'postgres',
    db,
    async notify(channel, payload) {
      await client`select pg_notify(${channel}, ${payload})`;
    },
    async listen(channel, onPayload) {
      const meta = await client.listen(channel, onPayload);
      const stop = async () => {
        unlisteners.delete(stop);
        await meta.unlisten();
      };
      unlisteners.add(stop);
      return stop;
    },
    async close() {
      for (const stop of [...unlisteners]) await stop().catch(() => {});
      await client.end({ timeout: 5 });
    },
  };
}

/** The part of a postgres.js client (or of one of its transactions) drizzle calls. */
interface PostgresJsHandle {
  unsafe(text: string, params?: unknown[], options?: { prepare?: boolean }): unknown;
  begin(...args: unknown[]): unknown;
  savepoint(...args: unknown[]): unknown;
}

/**
 * Drizzle sends a query built with its query builder unprepared (postgres.js `prepare: false`)
 * unless it was given a name with `.prepare(name)`: PostgreSQL then parses and plans it on every
 * call. Planning the flows' reads (an order with its deal, merchant and coupons) cost more server
 * time than running them (README "Performance"). This handle makes every statement a prepared one,
 * in transactions and savepoints too: each connection parses a statement once, and PostgreSQL
 * chooses between a generic plan and a custom one per statement as it does for `PREPARE`.
 * Connections are recycled (postgres.js `max_lifetime`), which bounds each one's statement cache.
 */
function preparedStatements<T extends object>(handle: T): T {
  return new Proxy(handle, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const own = target as unknown as PostgresJsHandle;
      if (prop === 'unsafe') {
        return (text: string, params?: unknown[], options?: { prepare?: boolean }) => own.unsafe(text, params, { ...options, prepare: true });
      }
      if (prop === 'begin' || prop === 'savepoint') {
        const open = prop === 'begin' ? own.begin : own.savepoint;
        return (...args: unknown[]) => {
          const body = args.pop() as (inner: object) => unknown;
          return open.call(target, ...args, (inner: object) => body(preparedStatements(inner)));
        };
      }
      return value.bind(target);
    },
  });
}

async function openPglite(dataDir: string | null, options: OpenOptions): Promise<Database> {
  let releaseLock = () => {};
  let dir: string | undefined;
  if (dataDir !== null) {
    dir = resolve(dataDir);
    mkdirSync(dir, { recursive: true });
    releaseLock = lockDataDir(dir);
  }
  let pg: PGlite;
  try {
    pg = new PGlite({ ...(dir ? { dataDir: dir } : {}), ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}) });
    await pg.waitReady;
  } catch (err) {
    releaseLock();
    throw err;
  }
  // Statements prepared once per text (see pglite-prepared.ts); LISTEN and dumps use PGlite as it is.
  const client = withPreparedStatements(pg);
  const db: Db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    // PGlite's own LISTEN/NOTIFY: a NOTIFY sent inside a statement (with the change it announces)
    // reaches listeners when that statement's transaction commits, as on PostgreSQL.
    async notify(channel, payload) {
      await client.query('select pg_notify($1, $2)', [channel, payload]);
    },
    async listen(channel, onPayload) {
      const unlisten = await pg.listen(channel, onPayload);
      return async () => {
        await unlisten();
      };
    },
    startMaintenance: (intervalMs, logger) => startPgliteMaintenance(pg, intervalMs, logger),
    async close() {
      try {
        await pg.close();
      } finally {
        releaseLock();
      }
    },
  };
}

/**
 * PGlite does not stop two processes opening one data directory (which corrupts it),
 * so a lock file with our pid guards it; a lock left by a dead process is taken over.
 */
function lockDataDir(dir: string): () => void {
  const lockPath = join(dir, '..', `.${dir.split('/').pop() ?? 'data'}.kefu.lock`);
  if (existsSync(lockPath)) {
    const pid = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
    if (Number.isInteger(pid) && pid !== process.pid && processAlive(pid)) {
      throw new AppError(
        'conflict',
        `The embedded database ${dir} is in use by process ${pid}. Stop it first, or set DATABASE_URL to another directory.`,
      );
    }
  }
  writeFileSync(lockPath, String(process.pid));
  return () => {
    try {
      if (readFileSync(lockPath, 'utf8') === String(process.pid)) rmSync(lockPath);
    } catch {
      // already gone
    }
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Applies every migration in migrations/ that has not run yet. */
export async function migrateDatabase(database: Database): Promise<void> {
  const config = { migrationsFolder: MIGRATIONS_DIR };
  if (database.kind === 'pglite') {
    // Both migrators only use the dialect's session API, which the shared Db exposes.
    await migratePglite(database.db as unknown as Parameters<typeof migratePglite>[0], config);
  } else {
    await migratePostgres(database.db as unknown as Parameters<typeof migratePostgres>[0], config);
  }
}

/** Number of migration files on disk and applied in the database; equal means ready. */
export async function migrationStatus(db: Db): Promise<{ expected: number; applied: number }> {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  let applied = 0;
  try {
    const rows = await db.execute<{ n: number }>(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    applied = Number(rowsOf<{ n: number }>(rows)[0]?.n ?? 0);
  } catch {
    applied = 0;
  }
  return { expected: journal.entries.length, applied };
}

/** Rows of a raw `execute` result, whichever driver produced it. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  if (result && typeof result === 'object' && 'rows' in result && Array.isArray(result.rows)) return result.rows as T[];
  return [];
}
