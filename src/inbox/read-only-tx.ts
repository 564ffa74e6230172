import type { Db, Tx } from '../db/client.js';

/** Thrown by the read-only handle when a turn wants to write: it must run in a transaction. */
export class NeedsTransaction extends Error {}

/** Database methods that only read, allowed in a turn stored without a transaction. */
const READS = new Set(['select', 'selectDistinct', 'selectDistinctOn', 'query', '$count']);

/**
 * A transaction handle that reads through the database and throws NeedsTransaction on anything else
 * (insert, update, delete, execute, transaction), before anything is written. Reads outside a
 * transaction see what they would in one: turns run at READ COMMITTED, where each statement sees
 * the latest commits anyway.
 */
export function readOnlyTx(db: Db): Tx {
  return new Proxy(db, {
    get(target, prop) {
      if (typeof prop === 'string' && READS.has(prop)) {
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      if (prop === 'then' || typeof prop === 'symbol') return undefined;
      throw new NeedsTransaction(`turn writes through ${String(prop)}`);
    },
  }) as unknown as Tx;
}
