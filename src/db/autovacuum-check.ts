import { sql } from 'drizzle-orm';
import type { Logger } from '../logger.js';
import { type Database, rowsOf } from './client.js';

/**
 * PostgreSQL without autovacuum never analyzes or vacuums kefu's tables: statements keep the plans
 * they got while the tables were small (a turn write once digested every conversation row for each
 * batch of turns that way), and rows updated with every message (conversations, channel
 * identities) fill with dead versions. It is a server setting, so kefu says it once at start, for
 * the operator. PGlite has no autovacuum and kefu maintains it itself (pglite-maintenance.ts).
 * Returns whether it warned.
 */
export async function warnWithoutAutovacuum(database: Database, logger: Logger): Promise<boolean> {
  if (database.kind !== 'postgres') return false;
  const [row] = rowsOf<{ setting: string }>(await database.db.execute(sql`select current_setting('autovacuum') as setting`));
  if (row?.setting === 'on') return false;
  logger.warn({ autovacuum: row?.setting ?? null }, 'db.autovacuum_off');
  return true;
}
