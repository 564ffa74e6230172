import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { type Db, migrationStatus } from '../db/client.js';

export interface HealthDeps {
  db: Db;
}

/** `/healthz`: the process is up. `/readyz`: the database answers and every migration is applied. */
export function healthRoutes(deps: HealthDeps): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await deps.db.execute(sql`select 1`);
      const migrations = await migrationStatus(deps.db);
      const ready = migrations.applied >= migrations.expected;
      return c.json({ status: ready ? 'ready' : 'migrations_pending', database: 'ok', migrations }, ready ? 200 : 503);
    } catch (err) {
      return c.json({ status: 'unavailable', database: err instanceof Error ? err.message : 'unreachable' }, 503);
    }
  });
  return app;
}
