// A server process for the benchmark: `bare` (a Hono endpoint doing one INSERT) or `full` (kefu).
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { auditLog } from '../src/db/schema.js';
import { silentLogger } from '../src/logger.js';
import { createService } from '../src/service.js';

const [mode, url] = process.argv.slice(2);
if ((mode !== 'bare' && mode !== 'full') || !url) {
  process.stderr.write('usage: server.ts bare|full <DATABASE_URL>\n');
  process.exit(2);
}

let fetch: (req: Request, env?: unknown) => Response | Promise<Response>;
let stop: () => Promise<void>;
if (mode === 'bare') {
  const database = await openDatabase({ kind: 'postgres', url });
  const app = new Hono();
  app.post('/bare', async (c) => {
    const body = await c.req.json<{ text?: string }>();
    await database.db.insert(auditLog).values({ actorType: 'bench', action: 'bench.insert', subjectType: 'bench', data: { text: body.text ?? '' } });
    return c.json({ ok: true }, 202);
  });
  fetch = app.fetch;
  stop = () => database.close();
} else {
  const config = loadConfig({ ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent', SEED_ON_EMPTY: 'true', OUTBOX_POLL_MS: '100' });
  // Every statement the service sends is counted (by its text), so the bench can
  // report round trips per message and which statements they are.
  const counts = new Map<string, number>();
  const database = await openDatabase(config.database, {
    onQuery: (statement) => counts.set(statement, (counts.get(statement) ?? 0) + 1),
  });
  const service = await createService({ config, logger: silentLogger, database });
  await service.start();
  const app = new Hono();
  app.get('/__bench/statements', (c) => {
    const byStatement: Record<string, number> = {};
    for (const [statement, n] of counts) {
      const key = statement.replace(/\s+/g, ' ').replace(/\$\d+/g, '?').trim().slice(0, 160);
      byStatement[key] = (byStatement[key] ?? 0) + n;
    }
    return c.json({ total: [...counts.values()].reduce((a, b) => a + b, 0), byStatement });
  });
  app.post('/__bench/statements/reset', (c) => {
    counts.clear();
    return c.json({ ok: true });
  });
  fetch = (req, env) => (req.url.includes('/__bench/') ? app.fetch(req) : service.app.fetch(req, env));
  stop = async () => {
    await service.stop();
    await database.close();
  };
}
const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
  process.stdout.write(`${JSON.stringify({ port: info.port })}\n`);
});
process.once('SIGTERM', () => {
  server.close();
  stop().then(() => process.exit(0));
});
