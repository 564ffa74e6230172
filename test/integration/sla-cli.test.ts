import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openHandoff } from '../../src/actions/handoff.js';
import { migrateDatabase, openDatabase } from '../../src/db/client.js';
import { channelIdentities, conversations, notifications } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID, seedDemoData } from '../../src/db/seed.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');

describe('kefu sla run --now', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kefu-sla-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('escalates a case nobody answered within the hour, as of the given time, with the manager notified', async () => {
    const dataDir = join(dir, 'data');
    const handoffAt = new Date('2026-11-23T09:00:00Z');
    let conversationId = '';
    {
      const database = await openDatabase({ kind: 'pglite', dataDir });
      try {
        await migrateDatabase(database);
        await seedDemoData(database.db, { now: new Date('2026-11-22T09:00:00Z') });
        const db = database.db;
        const [identity] = await db
          .insert(channelIdentities)
          .values({ customerId: DEMO_SENIOR_CUSTOMER_ID, channel: 'webchat', externalId: `customer:${DEMO_SENIOR_CUSTOMER_ID}` })
          .returning();
        const [conversation] = await db
          .insert(conversations)
          .values({ customerId: DEMO_SENIOR_CUSTOMER_ID, channelIdentityId: identity!.id, channel: 'webchat', replyToken: 'sla-cli-test' })
          .returning();
        conversationId = conversation!.id;
        await db.transaction((tx) => openHandoff(tx, { conversationId, reason: 'customer_request', priority: 0, slots: {} }, handoffAt));
      } finally {
        await database.close();
      }
    }
    const env = { ...process.env, DATABASE_URL: `pglite://${dataDir}`, LOG_LEVEL: 'silent' };
    const cli = (now: string) => run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), 'sla', 'run', '--now', now], { env, cwd: ROOT });
    const before = JSON.parse((await cli('2026-11-23T09:59:00Z')).stdout);
    expect(before.byKind).toEqual({ 'sla.first_response.warn': 1 });
    const after = JSON.parse((await cli('2026-11-23T10:01:00Z')).stdout);
    expect(after.byKind).toEqual({ 'sla.first_response.breach': 1 });
    expect(after.conversations).toEqual([conversationId]);

    const database = await openDatabase({ kind: 'pglite', dataDir });
    try {
      const [row] = await database.db.select().from(conversations).where(eq(conversations.id, conversationId));
      expect(row!.escalated).toBe(true);
      expect(row!.status).toBe('waiting');
      const notes = await database.db.select().from(notifications).where(eq(notifications.conversationId, conversationId));
      expect(notes.map((n) => `${n.kind}/${n.audience}`).sort()).toEqual(['sla.breach/managers', 'sla.warning/managers']);
    } finally {
      await database.close();
    }
  }, 90_000);
});
