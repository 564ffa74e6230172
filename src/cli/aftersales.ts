import type { Command } from 'commander';
import { createActionDeps } from '../actions/create-action-deps.js';
import { sweepExpiredCoupons } from '../aftersales/expiry-sweep.js';
import { loadProgressMessages } from '../aftersales/progress.js';
import { loadConfig } from '../config.js';
import { AppError } from '../core/errors.js';
import { migrateDatabase, openDatabase } from '../db/client.js';
import { silentLogger } from '../logger.js';
import type { RegisterCommands } from './index.js';

/** `kefu aftersales sweep --now <ISO time>`: refunds expired unused coupons of refund_on_expiry deals now. */
export const registerAfterSalesCommands: RegisterCommands = (program: Command) => {
  const aftersales = program.command('aftersales').description('after-sales loop: automatic refunds on expiry');
  aftersales
    .command('sweep')
    .description('refund every unused coupon of a refund_on_expiry deal expired as of --now (default: now); safe beside running servers (SKIP LOCKED)')
    .option('--now <iso>', 'sweep as of this time, e.g. 2027-03-01T00:30:00+08:00')
    .action(async (opts: { now?: string }) => {
      const now = opts.now === undefined ? new Date() : new Date(opts.now);
      if (Number.isNaN(now.getTime())) throw new AppError('bad_request', `--now must be an ISO time, got ${opts.now}`);
      const config = loadConfig();
      const database = await openDatabase(config.database);
      try {
        await migrateDatabase(database);
        const gateway = createActionDeps(config, silentLogger).refunds;
        const run = await sweepExpiredCoupons({ gateway, wording: loadProgressMessages(), logger: silentLogger }, (fn) => database.db.transaction(fn), now);
        process.stdout.write(`${JSON.stringify({ now: now.toISOString(), ...run })}\n`);
      } finally {
        await database.close();
      }
    });
};
