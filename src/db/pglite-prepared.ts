import { type PGlite, type QueryOptions, type Results, type Transaction, parse, protocol } from '@electric-sql/pglite';

/** Statements kept prepared at most; the least recently used one is closed beyond this. */
export const PREPARED_STATEMENTS_MAX = 500;

const { serialize } = protocol;
const { parseResults, parseDescribeStatementResults } = parse;
/** SQLSTATE of a prepared statement that is gone (`invalid_sql_statement_name`). */
const STATEMENT_GONE = '26000';
/** SQLSTATE of "cached plan must not change result type" after a schema change (`feature_not_supported`). */
const PLAN_CHANGED = '0A000';

interface Prepared {
  name: string;
  paramTypes: number[];
}

/**
 * PGlite's `query` parses and plans its statement anew on every call, in six calls into the
 * database (parse, describe, bind, describe, execute, sync). The hot path runs a few dozen distinct
 * statements thousands of times: planning was three quarters of a typical statement's time (README
 * "Performance"). This prepares each statement text once, as a named statement of PGlite's one
 * session, and then runs it with bind, describe, execute and sync in a single call.
 *
 * Results, parameter serialisation and errors are PGlite's own (its parsers, serialisers and
 * `parseResults`), under its own locks: a statement outside a transaction waits for any
 * transaction, as `query` does. PostgreSQL still chooses a custom or generic plan per statement.
 */
export class PreparedStatements {
  private readonly statements = new Map<string, Prepared>();
  private next = 0;

  constructor(
    private readonly pg: PGlite,
    private readonly max = PREPARED_STATEMENTS_MAX,
  ) {}

  /** How many statements are prepared now (tests). */
  get size(): number {
    return this.statements.size;
  }

  /** A statement outside any transaction: waits for open transactions like PGlite's `query`. */
  query<T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> {
    return this.pg._runExclusiveTransaction(() => this.inSession<T>(text, params, options));
  }

  /** A statement inside the transaction that holds the session. */
  inSession<T>(text: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<T>> {
    if (options?.blob) return Promise.reject(new Error('PGlite COPY with a blob is not supported by prepared statements; use PGlite.query'));
    return this.pg._runExclusiveQuery(async () => {
      try {
        return await this.run<T>(text, params, options);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code !== STATEMENT_GONE && code !== PLAN_CHANGED) throw err;
        // Deallocated behind our back, or the tables changed shape: prepare it again, once.
        await this.forget(text);
        return this.run<T>(text, params, options);
      }
    });
  }

  private async run<T>(text: string, params: unknown[], options: QueryOptions | undefined): Promise<Results<T>> {
    const statement = await this.prepare(text, options);
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      const type = statement.paramTypes[i] ?? 0;
      const serializer = options?.serializers?.[type] ?? this.pg.serializers[type];
      return serializer ? serializer(value) : String(value);
    });
    let messages: Awaited<ReturnType<PGlite['execProtocolStream']>>;
    try {
      messages = await this.pg.execProtocolStream(
        concat(serialize.bind({ statement: statement.name, values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()),
        { syncToFs: false },
      );
    } catch (err) {
      throw withQuery(err, text, params, options);
    }
    if (!this.pg.isInTransaction()) await this.pg.syncToFs();
    const [result] = parseResults(messages, this.pg.parsers, options);
    if (!result) throw new Error('PGlite returned no result for a prepared statement');
    return result as Results<T>;
  }

  private async prepare(text: string, options: QueryOptions | undefined): Promise<Prepared> {
    const known = this.statements.get(text);
    if (known) {
      // Most recently used last: the first entry is the one to close when full.
      this.statements.delete(text);
      this.statements.set(text, known);
      return known;
    }
    if (this.statements.size >= this.max) {
      const [oldest] = this.statements.keys();
      if (oldest !== undefined) await this.forget(oldest);
    }
    this.next += 1;
    const name = `kefu_s${this.next}`;
    let messages: Awaited<ReturnType<PGlite['execProtocolStream']>>;
    try {
      messages = await this.pg.execProtocolStream(
        concat(serialize.parse({ name, text, types: options?.paramTypes ?? [] }), serialize.describe({ type: 'S', name }), serialize.sync()),
        { syncToFs: false },
      );
    } catch (err) {
      throw withQuery(err, text, [], options);
    }
    const prepared = { name, paramTypes: parseDescribeStatementResults(messages) };
    this.statements.set(text, prepared);
    return prepared;
  }

  private async forget(text: string): Promise<void> {
    const statement = this.statements.get(text);
    if (!statement) return;
    this.statements.delete(text);
    await this.pg.execProtocolStream(concat(serialize.close({ type: 'S', name: statement.name }), serialize.sync()), { syncToFs: false, throwOnError: false });
  }
}

/** The PGlite handle drizzle and kefu use: the same object, whose `query` (and its transactions' `query`) run prepared. */
export function withPreparedStatements(pg: PGlite, statements = new PreparedStatements(pg)): PGlite {
  const inTransaction = (tx: Transaction, closed: () => boolean): Transaction =>
    new Proxy(tx, {
      get(target, key) {
        if (key === 'query') {
          return <T>(text: string, params?: unknown[], options?: QueryOptions) => {
            if (closed()) return Promise.reject(new Error('Transaction is closed'));
            return statements.inSession<T>(text, params, options);
          };
        }
        return bound(target, key);
      },
    });
  return new Proxy(pg, {
    get(target, key) {
      if (key === 'query') return <T>(text: string, params?: unknown[], options?: QueryOptions) => statements.query<T>(text, params, options);
      if (key === 'transaction') {
        return <T>(callback: (tx: Transaction) => Promise<T>) =>
          target.transaction(async (tx) => {
            let done = false;
            try {
              return await callback(inTransaction(tx, () => done));
            } finally {
              done = true;
            }
          });
      }
      return bound(target, key);
    },
  });
}

function bound(target: object, key: string | symbol): unknown {
  const value: unknown = Reflect.get(target, key, target);
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** What PGlite's `query` attaches to a database error: the statement, its values and options. */
function withQuery(err: unknown, query: string, params: unknown[], queryOptions: QueryOptions | undefined): unknown {
  if (err instanceof Error && 'code' in err) Object.assign(err, { query, params, queryOptions });
  return err;
}
