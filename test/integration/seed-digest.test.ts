import { createHash } from 'node:crypto';
import { asc, getTableColumns } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { agents, coupons, customers, deals, merchants, orders, refunds } from '../../src/db/schema.js';
import { DEFAULT_DEMO_SEED, seedDemoData } from '../../src/db/seed.js';
import { backends, freshDatabase } from '../support/db.js';

const NOW = new Date('2026-11-22T00:00:00Z');

/**
 * The columns the demo seed writes, as they were when the digests below were taken. Listed by
 * name rather than "every column" so a column added later (with its default) leaves the digest
 * alone. agents.password_hash is left out: argon2 salts it randomly on every run.
 */
const DIGESTED = [
  [merchants, ['id', 'name', 'category', 'city', 'address', 'phone', 'status', 'statusReason', 'complaintCount', 'createdAt']],
  [
    deals,
    [
      'id',
      'merchantId',
      'title',
      'category',
      'included',
      'validFrom',
      'validTo',
      'weekdays',
      'hoursFrom',
      'hoursTo',
      'reservationRequired',
      'usageNotes',
      'priceCents',
      'originalPriceCents',
      'refundAnytime',
      'refundOnExpiry',
      'createdAt',
    ],
  ],
  [customers, ['id', 'name', 'phone', 'email', 'locale', 'birthYear', 'firstTimeUser', 'guest', 'createdAt']],
  [agents, ['id', 'email', 'name', 'role', 'active', 'createdAt']],
  [orders, ['id', 'orderNumber', 'customerId', 'dealId', 'quantity', 'unitPriceCents', 'totalCents', 'paymentMethod', 'createdAt']],
  [coupons, ['id', 'orderId', 'code', 'state', 'usedAt', 'expiresAt', 'createdAt']],
  [
    refunds,
    [
      'id',
      'couponId',
      'orderId',
      'customerId',
      'amountCents',
      'status',
      'policy',
      'reason',
      'conversationId',
      'decidedByAgentId',
      'expectedBy',
      'createdAt',
      'decidedAt',
    ],
  ],
] as const;

async function rowsOf(database: Database, table: PgTable, names: readonly string[]): Promise<unknown[][]> {
  const columns = getTableColumns(table);
  for (const n of names) expect(columns[n], `column ${n}`).toBeDefined();
  const id = columns.id;
  if (!id) throw new Error('digested tables have an id');
  const picked = Object.fromEntries(names.map((n) => [n, columns[n]]));
  const rows: Record<string, unknown>[] = await database.db
    .select(picked as never)
    .from(table)
    .orderBy(asc(id));
  return rows.map((row) =>
    names.map((n) => {
      const value = row[n];
      return value instanceof Date ? value.toISOString() : value;
    }),
  );
}

/** sha256 over every seeded row, table by table, in id order. */
async function digest(database: Database): Promise<{ sha256: string; rows: number }> {
  const hash = createHash('sha256');
  let rows = 0;
  for (const [table, names] of DIGESTED) {
    const tableRows = await rowsOf(database, table, names);
    rows += tableRows.length;
    hash.update(JSON.stringify(tableRows));
    hash.update('\n');
  }
  return { sha256: hash.digest('hex'), rows };
}

// Taken on main before the demo data moved out of TypeScript into data files: the move must not
// change a single seeded value.
const PINNED = [
  // Re-pinned on purpose when the platform studio added the demo editor account (one agents row).
  { seed: DEFAULT_DEMO_SEED, rows: 965, sha256: '078b1da696889f7f3caa5a2316a173da52434b9f3db77f66b5a3509360794dd3' },
  { seed: 7, rows: 935, sha256: '6793487a5f58174c8ee2f978c7b21e79c7953a13e85f32cfbd3ad1dfaeeecba0' },
];

describe.each(backends())('seeded rows digest (%s)', (backend) => {
  const opened: Database[] = [];
  afterAll(async () => {
    for (const database of opened) await database.close();
  });

  it.each(PINNED)('seed $seed gives the pinned rows', async ({ seed, rows, sha256 }) => {
    const database = await freshDatabase(backend);
    opened.push(database);
    await seedDemoData(database.db, { seed, now: NOW });
    expect(await digest(database)).toEqual({ sha256, rows });
  }, 60_000);
});
