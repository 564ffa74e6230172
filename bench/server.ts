// A server process for the benchmark: `bare` (a Hono endpoint doing one INSERT) or `full` (kefu),
// on PostgreSQL (`postgres://…`) or on PGlite in this process (`pglite://memory`).
// `full` also seeds bench customers (signed web chat identities with refundable orders) and serves
// /__bench/* endpoints the harness reads: statement counts, backlog, counts, customers, memory.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { and, asc, count, eq, gte, isNull, like, lte, notExists, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { loadConfig, parseDatabaseUrl } from '../src/config.js';
import { type Db, migrateDatabase, openDatabase } from '../src/db/client.js';
import { auditLog, coupons, customers, deals, messages, orders, outbox, progressNotices } from '../src/db/schema.js';
import { silentLogger } from '../src/logger.js';
import { createService } from '../src/service.js';

const [mode, url] = process.argv.slice(2);
if ((mode !== 'bare' && mode !== 'full') || !url) {
  process.stderr.write('usage: server.ts bare|full <DATABASE_URL|pglite://memory>\n');
  process.exit(2);
}

/** Bench customers' names start with this; their order numbers are KF9 + 7 digits. */
const BENCH_PREFIX = 'bench-';
const COUPONS_PER_ORDER = 5;

let fetch: (req: Request, env?: unknown) => Response | Promise<Response>;
let stop: () => Promise<void>;
if (mode === 'bare') {
  const database = await openDatabase(parseDatabaseUrl(url));
  if (database.kind === 'pglite') await migrateDatabase(database);
  const app = new Hono();
  app.post('/bare', async (c) => {
    const body = await c.req.json<{ text?: string }>();
    await database.db.insert(auditLog).values({ actorType: 'bench', action: 'bench.insert', subjectType: 'bench', data: { text: body.text ?? '' } });
    return c.json({ ok: true }, 202);
  });
  fetch = app.fetch;
  stop = () => database.close();
} else {
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: url,
    LOG_LEVEL: 'silent',
    SEED_ON_EMPTY: 'true',
    OUTBOX_POLL_MS: process.env.OUTBOX_POLL_MS ?? '100',
  });
  // Every statement the service sends is counted (by its text), so the bench can
  // report round trips per message and which statements they are (PostgreSQL only).
  const counts = new Map<string, number>();
  const database = await openDatabase(config.database, {
    onQuery: (statement) => counts.set(statement, (counts.get(statement) ?? 0) + 1),
  });
  const service = await createService({ config, logger: silentLogger, database });
  await service.start();
  const db = service.database.db;
  await seedBenchCustomers(db, Number(process.env.BENCH_CUSTOMERS ?? 0));
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
  // Inbound messages not yet answered plus replies not yet delivered: 0 when everything settled.
  app.get('/__bench/backlog', async (c) => {
    const [a] = await db.select({ n: count() }).from(messages).where(and(eq(messages.direction, 'in'), isNull(messages.processedAt)));
    // Replies to messages still waiting for delivery. Not the progress notices kefu sends on its
    // own (a refund paid, a case decided: progress_notices), which the timers write whenever they
    // fire and which answer no message.
    const [b] = await db
      .select({ n: count() })
      .from(outbox)
      .where(
        and(
          eq(outbox.status, 'pending'),
          notExists(db.select({ one: sql`1` }).from(progressNotices).where(eq(progressNotices.messageId, outbox.messageId))),
        ),
      );
    return c.json({ n: Number(a?.n ?? 0) + Number(b?.n ?? 0) });
  });
  app.get('/__bench/counts', async (c) => {
    const [a] = await db.select({ n: count() }).from(messages).where(eq(messages.direction, 'in'));
    const [b] = await db.select({ n: count() }).from(messages).where(and(eq(messages.direction, 'out'), eq(messages.deliveryStatus, 'sent')));
    return c.json({ inbound: Number(a?.n ?? 0), outbound: Number(b?.n ?? 0) });
  });
  app.get('/__bench/customers', async (c) => {
    const rows = await db
      .select({ id: customers.id, orderNumber: orders.orderNumber })
      .from(customers)
      .innerJoin(orders, eq(orders.customerId, customers.id))
      .where(like(customers.name, `${BENCH_PREFIX}%`))
      .orderBy(asc(customers.phone));
    return c.json({ customers: rows });
  });
  fetch = (req, env) => (req.url.includes('/__bench/') ? app.fetch(req) : service.app.fetch(req, env));
  stop = async () => {
    await service.stop();
    await database.close();
  };
}

// Both modes: memory as the kernel sees it, and a full GC (the child runs with --expose-gc).
const common = new Hono();
common.get('/__bench/memory', (c) => {
  const status = readFileSync('/proc/self/status', 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return c.json({ rssKiB, ...process.memoryUsage() });
});
common.post('/__bench/gc', (c) => {
  (globalThis as { gc?: () => void }).gc?.();
  return c.json({ ok: true });
});
const inner = fetch;
fetch = (req, env) => (req.url.includes('/__bench/memory') || req.url.includes('/__bench/gc') ? common.fetch(req) : inner(req, env));

const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
  process.stdout.write(`${JSON.stringify({ port: info.port, pid: process.pid })}\n`);
});
process.once('SIGTERM', () => {
  server.close();
  stop().then(() => process.exit(0));
});

/**
 * Customers the load signs in as: each has one order of a refund-anytime deal with unused coupons,
 * so a refund conversation goes the whole way (order number → coupon → confirm → refunded).
 * A conversation that ends with a person (complaint, handoff) is never reused by the harness.
 */
async function seedBenchCustomers(db: Db, n: number): Promise<void> {
  if (n <= 0) return;
  const [existing] = await db.select({ id: customers.id }).from(customers).where(like(customers.name, `${BENCH_PREFIX}%`)).limit(1);
  if (existing) return;
  const today = new Date().toISOString().slice(0, 10);
  const [deal] = await db
    .select({ id: deals.id, priceCents: deals.priceCents, validTo: deals.validTo })
    .from(deals)
    .where(and(eq(deals.refundAnytime, true), lte(deals.priceCents, 30_000), gte(deals.validTo, today), lte(deals.validFrom, today)))
    .orderBy(asc(deals.priceCents))
    .limit(1);
  if (!deal) throw new Error('no refund-anytime deal in the demo data to give bench customers orders of');
  const orderedAt = new Date(Date.now() - 2 * 86_400_000);
  const expiresAt = new Date(`${deal.validTo}T15:59:59Z`);
  const CHUNK = 400;
  for (let start = 0; start < n; start += CHUNK) {
    const ids = Array.from({ length: Math.min(CHUNK, n - start) }, (_, k) => ({ i: start + k, customerId: randomUUID(), orderId: randomUUID() }));
    await db.transaction(async (tx) => {
      await tx.insert(customers).values(
        ids.map(({ i, customerId }) => ({ id: customerId, name: `${BENCH_PREFIX}${i}`, phone: `199${String(i).padStart(8, '0')}`, locale: 'zh-Hans' as const })),
      );
      await tx.insert(orders).values(
        ids.map(({ i, customerId, orderId }) => ({
          id: orderId,
          orderNumber: `KF9${String(i).padStart(7, '0')}`,
          customerId,
          dealId: deal.id,
          quantity: COUPONS_PER_ORDER,
          unitPriceCents: deal.priceCents,
          totalCents: deal.priceCents * COUPONS_PER_ORDER,
          paymentMethod: 'wechat_pay',
          createdAt: orderedAt,
        })),
      );
      await tx.insert(coupons).values(
        ids.flatMap(({ i, orderId }) =>
          Array.from({ length: COUPONS_PER_ORDER }, (_, k) => ({
            orderId,
            code: `BN${String(i).padStart(6, '0')}${k}`,
            state: 'unused' as const,
            expiresAt,
            createdAt: orderedAt,
          })),
        ),
      );
    });
  }
  // Planner statistics for the new rows, as a real database would have.
  await db.execute(sql`analyze`);
}
