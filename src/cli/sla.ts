import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { AppError } from '../core/errors.js';
import { migrateDatabase, openDatabase } from '../db/client.js';
import { pendingTimers, runDueTimers } from '../console/sla.js';
import { loadHandoffMessages } from '../console/wording.js';
import type { RegisterCommands } from './index.js';

/** `kefu sla run --now <ISO time>`: evaluates every SLA deadline and follow-up due as of that time. */
export const registerSlaCommands: RegisterCommands = (program: Command) => {
  const sla = program.command('sla').description('SLA deadlines and follow-ups of handed-off cases');
  sla
    .command('run')
    .description('fire every timer due as of --now (default: now); safe beside running servers (SKIP LOCKED)')
    .option('--now <iso>', 'evaluate as of this time, e.g. 2026-11-22T10:05:00Z')
    .action(async (opts: { now?: string }) => {
      const now = opts.now === undefined ? new Date() : new Date(opts.now);
      if (Number.isNaN(now.getTime())) throw new AppError('bad_request', `--now must be an ISO time, got ${opts.now}`);
      const config = loadConfig();
      const database = await openDatabase(config.database);
      try {
        await migrateDatabase(database);
        const run = await runDueTimers({ db: database.db, wording: loadHandoffMessages(), retentionDays: config.RETENTION_DAYS }, now, {
          concurrency: database.kind === 'pglite' ? 1 : config.TIMER_CONCURRENCY,
        });
        const pending = await pendingTimers(database.db);
        process.stdout.write(
          `${JSON.stringify({ now: now.toISOString(), fired: run.fired, byKind: run.byKind, conversations: run.conversationIds, pending })}\n`,
        );
      } finally {
        await database.close();
      }
    });
};
