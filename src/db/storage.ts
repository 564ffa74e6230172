import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { type Database, migrateDatabase, openDatabase } from './client.js';
import { isDatabaseEmpty, seedDemoData } from './seed.js';

/** The service's database: opened (or passed in), migrated, seeded with demo data on first start. */
export interface Storage {
  readonly database: Database;
  readonly seeded: boolean;
  /** Closes the database unless it was passed in. */
  close(): Promise<void>;
}

export async function openStorage(options: {
  config: Config;
  logger: Logger;
  /** An already open database (tests share a migrated template); otherwise the configured one is opened. */
  database?: Database | undefined;
  /** Seed demo data into an empty database (default: config.SEED_ON_EMPTY). */
  seedIfEmpty?: boolean | undefined;
}): Promise<Storage> {
  const { config, logger } = options;
  const database = options.database ?? (await openDatabase(config.database));
  const close = options.database === undefined ? () => database.close() : async () => {};
  try {
    await migrateDatabase(database);
    let seeded = false;
    if ((options.seedIfEmpty ?? config.SEED_ON_EMPTY) && (await isDatabaseEmpty(database.db))) {
      await seedDemoData(database.db);
      seeded = true;
      logger.info('seed.done');
    }
    return { database, seeded, close };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}
