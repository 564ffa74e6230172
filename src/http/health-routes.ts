import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { redactSecrets } from '../core/redact.js';
import { type Db, migrationStatus } from '../db/client.js';

const READY_TIMEOUT_MS = 1500;

export interface HealthDeps {
  db: Db;
}

/** `/healthz`: the process is up. `/readyz`: the database answers and every migration is applied. */
export function healthRoutes(deps: HealthDeps): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    // A load balancer needs the answer quickly: a database that does not answer in time is down.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer in time')), READY_TIMEOUT_MS);
    });
    try {
      const check = (async () => {
        await deps.db.execute(sql`select 1`);
        return migrationStatus(deps.db);
      })();
      check.catch(() => {});
      const migrations = await Promise.race([check, deadline]);
      const ready = migrations.applied >= migrations.expected;
      return c.json({ status: ready ? 'ready' : 'migrations_pending', database: 'ok', migrations }, ready ? 200 : 503);
    } catch (err) {
      c.header('Retry-After', '5');
      return c.json({ status: 'unavailable', database: redactSecrets(err instanceof Error ? err.message : 'unreachable') }, 503);
    } finally {
      clearTimeout(timer);
    }
  });
  return app;
}
