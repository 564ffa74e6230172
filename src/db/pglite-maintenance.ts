import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from '../logger.js';

/** The statistics target of the analyses a pass runs (set for PGlite's one session: only ANALYZE reads it). */
export const PGLITE_STATISTICS_TARGET = 10;

/**
 * PostgreSQL's autovacuum, for PGlite, which has none: PGlite is a single backend with no
 * background workers, so nothing ever vacuums or analyzes its tables. Statistics then stay those of
 * the empty tables the service started with: after a few thousand messages the planner still
 * thought `messages` tiny and read it whole where an index fitted (the turn write and the lease
 * batch went from 5 and 3 ms to 26 ms; README "Performance"), and dead rows of every update piled up.
 *
 * Each pass flushes the backend's table counters and applies autovacuum's default rules per table:
 * VACUUM when dead rows exceed 50 + 20 % of the table or inserted rows 1,000 + 20 %, ANALYZE when
 * changed rows exceed 50 + 10 %. A pass with nothing to do is a SET and two small reads.
 *
 * PGlite runs every statement on the service's one thread, so a pass stalls every request while it
 * runs. ANALYZE was most of that: with the default statistics target it samples up to 30,000 rows,
 * and on a messages table of 8,700–31,000 rows in a flood each `vacuum (analyze)` held the event
 * loop 136–261 ms. Passes analyze with a target of 10 (a 3,000-row sample, PostgreSQL's default before
 * 8.4): the planner needs row counts and rough distributions to pick kefu's indexes, not fine
 * histograms.
 */
export interface MaintenancePass {
  vacuumed: string[];
  analyzed: string[];
}

interface TableCounters {
  relname: string;
  dead: number;
  changed: number;
  inserted: number;
  tuples: number;
}

export async function maintainPglite(pg: PGlite): Promise<MaintenancePass> {
  // Counters reach the statistics views when the backend next goes idle, which in PGlite is the
  // end of this statement.
  await pg.query('select pg_stat_force_next_flush()');
  await pg.exec(`set default_statistics_target = ${PGLITE_STATISTICS_TARGET}`);
  const { rows } = await pg.query<TableCounters>(`
    select s.relname,
           s.n_dead_tup::float8 as dead,
           s.n_mod_since_analyze::float8 as changed,
           s.n_ins_since_vacuum::float8 as inserted,
           greatest(c.reltuples, 0)::float8 as tuples
      from pg_stat_user_tables s join pg_class c on c.oid = s.relid
     where s.schemaname = 'public'
     order by s.relname`);
  const pass: MaintenancePass = { vacuumed: [], analyzed: [] };
  for (const t of rows) {
    const vacuum = t.dead > 50 + 0.2 * t.tuples || t.inserted > 1000 + 0.2 * t.tuples;
    const analyze = t.changed > 50 + 0.1 * t.tuples;
    if (!vacuum && !analyze) continue;
    const table = `public."${t.relname.replaceAll('"', '""')}"`;
    // Waits for any open transaction, like every statement on PGlite.
    await pg.exec(vacuum ? `vacuum ${analyze ? '(analyze) ' : ''}${table}` : `analyze ${table}`);
    if (vacuum) pass.vacuumed.push(t.relname);
    if (analyze) pass.analyzed.push(t.relname);
  }
  return pass;
}

/** Runs a maintenance pass every `intervalMs` until stopped; a pass that fails is logged and the next one tries again. */
export function startPgliteMaintenance(pg: PGlite, intervalMs: number, logger: Logger): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    const started = performance.now();
    running = maintainPglite(pg)
      .then((pass) => {
        if (pass.vacuumed.length > 0 || pass.analyzed.length > 0) {
          logger.info({ ...pass, ms: Math.round(performance.now() - started) }, 'pglite.maintenance');
        }
      })
      .catch((err: unknown) => logger.warn({ err }, 'pglite.maintenance_failed'))
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
