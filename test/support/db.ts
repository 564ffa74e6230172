import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.js';
import { withDatabase } from './global-setup.js';

export type BackendName = 'pglite' | 'postgres';

/** The database backends every repository and pipeline suite runs against. */
export function backends(): BackendName[] {
  return inject('postgresTemplate') ? ['pglite', 'postgres'] : ['pglite'];
}

/** A fresh migrated database of the given backend, cloned from the run's template. */
export async function freshDatabase(backend: BackendName): Promise<Database> {
  if (backend === 'pglite') {
    const dump = readFileSync(inject('pgliteTemplate'));
    return openDatabase({ kind: 'pglite', dataDir: null }, { loadDataDir: new Blob([dump]) });
  }
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set');
  const name = `kefu_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(url, { onnotice: () => {}, max: 1 });
  try {
    await admin.unsafe(`create database ${name} template ${inject('postgresTemplate')}`);
  } finally {
    await admin.end();
  }
  const database = await openDatabase({ kind: 'postgres', url: withDatabase(url, name) });
  return {
    ...database,
    async close() {
      await database.close();
      const cleanup = postgres(url, { onnotice: () => {}, max: 1 });
      try {
        await cleanup.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
