import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, rowsOf } from '../../src/db/client.js';
import { warnWithoutAutovacuum } from '../../src/db/autovacuum-check.js';
import { createLogger } from '../../src/logger.js';
import { backends, freshDatabase } from '../support/db.js';

/**
 * A PostgreSQL server running without autovacuum never re-plans kefu's statements or clears its
 * hot tables' dead rows; the operator is told once at start. PGlite is maintained by kefu itself.
 */
describe.each(backends())('autovacuum at start (%s)', (backend) => {
  let database: Database;

  beforeAll(async () => {
    database = await freshDatabase(backend);
  });

  afterAll(async () => {
    await database?.close();
  });

  it("warns the operator exactly when PostgreSQL's autovacuum is off, never for PGlite", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const warned = await warnWithoutAutovacuum(database, createLogger('info', sink));
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string; autovacuum?: string }).filter((l) => l.msg === 'db.autovacuum_off');
    if (backend === 'pglite') {
      expect(warned).toBe(false);
      expect(warnings).toEqual([]);
      return;
    }
    const [server] = rowsOf<{ setting: string }>(await database.db.execute(sql`select current_setting('autovacuum') as setting`));
    const off = server?.setting !== 'on';
    expect(warned).toBe(off);
    expect(warnings).toEqual(off ? [expect.objectContaining({ level: 40, autovacuum: server?.setting })] : []);
  });
});
