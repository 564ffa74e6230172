import type { Command } from 'commander';
import { configuredAttachmentStore } from '../attachments/index.js';
import { type Config, loadConfig } from '../config.js';
import { migrateDatabase, openDatabase } from '../db/client.js';
import { eraseCustomer, exportCustomer } from '../privacy/customer-data.js';
import type { RegisterCommands } from './index.js';

async function withDatabase<T>(work: (db: Awaited<ReturnType<typeof openDatabase>>['db'], config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await openDatabase(config.database);
  try {
    await migrateDatabase(database);
    return await work(database.db, config);
  } finally {
    await database.close();
  }
}

/** `kefu customer export|erase <id|email|phone>`: a person's data rights (access, erasure). */
export const registerCustomerCommands: RegisterCommands = (program: Command) => {
  const customer = program.command('customer').description("a person's data: export everything, or erase it on request");
  customer
    .command('export')
    .argument('<ref>', 'customer id, email address or phone number')
    .description('print everything kefu holds about the person as JSON')
    .action(async (ref: string) => {
      const data = await withDatabase((db) => exportCustomer(db, ref, new Date()));
      process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    });
  customer
    .command('erase')
    .argument('<ref>', 'customer id, email address or phone number')
    .option('--by <who>', 'who asked for it, for the audit log', 'cli')
    .description('anonymise the person: personal data removed, order and money records kept with their fields blanked (audited)')
    .action(async (ref: string, opts: { by: string }) => {
      const counts = await withDatabase((db, config) => eraseCustomer(db, ref, opts.by, new Date(), configuredAttachmentStore(config, db)));
      process.stdout.write(`${JSON.stringify({ erased: true, ...counts })}\n`);
    });
};
