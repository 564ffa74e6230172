import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { ConfigError, type Config, loadConfig } from './config.js';
import { AppError } from './core/errors.js';
import { commandRegistrars } from './cli/index.js';

// The service, database drivers and seed are imported by the commands that need them, so
// light commands (classify, --help) start fast.

function config(): Config {
  return loadConfig();
}

const program = new Command();
program.name('kefu').description('kefu: a support bot with web chat, Telegram and email intake').showHelpAfterError();

program
  .command('serve')
  .description('run the HTTP service, the outbox worker and enabled channels')
  .action(async () => {
    const cfg = config();
    const { createLogger } = await import('./logger.js');
    const { startServer } = await import('./main.js');
    const logger = createLogger(cfg.LOG_LEVEL);
    const running = await startServer(cfg, logger);
    const stop = (signal: string) => {
      logger.info({ signal }, 'process.signal');
      running.shutdown().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'server.stop_failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });

program
  .command('migrate')
  .description('apply database migrations (also done at every start)')
  .action(async () => {
    const { migrateDatabase, openDatabase } = await import('./db/client.js');
    const database = await openDatabase(config().database);
    try {
      await migrateDatabase(database);
      process.stdout.write('migrations applied\n');
    } finally {
      await database.close();
    }
  });

program
  .command('seed')
  .description('load the deterministic demo data into an empty database')
  .option('--seed <n>', 'random seed', '1')
  .action(async (opts: { seed: string }) => {
    const { migrateDatabase, openDatabase } = await import('./db/client.js');
    const { isDatabaseEmpty, seedDemoData } = await import('./db/seed.js');
    const database = await openDatabase(config().database);
    try {
      await migrateDatabase(database);
      if (!(await isDatabaseEmpty(database.db))) {
        throw new AppError('conflict', 'The database already has customers or agents; seed only loads into an empty one.');
      }
      const summary = await seedDemoData(database.db, { seed: Number(opts.seed) });
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } finally {
      await database.close();
    }
  });

program
  .command('chat')
  .description('talk to the bot in the terminal, as a demo customer, through the same pipeline')
  .option('--customer <idOrPhone>', 'customer id or phone (default: the demo senior customer)')
  .action(async (opts: { customer?: string }) => {
    const cfg = config();
    const { desc, eq, or } = await import('drizzle-orm');
    const { customers } = await import('./db/schema.js');
    const { DEMO_SENIOR_CUSTOMER_ID } = await import('./db/seed.js');
    const { silentLogger } = await import('./logger.js');
    const { createService } = await import('./service.js');
    const service = await createService({ config: cfg, logger: silentLogger });
    await service.start();
    try {
      const db = service.database.db;
      const wanted = opts.customer ?? DEMO_SENIOR_CUSTOMER_ID;
      const isUuid = /^[0-9a-f-]{36}$/i.test(wanted);
      const [customer] = await db
        .select()
        .from(customers)
        .where(isUuid ? or(eq(customers.id, wanted), eq(customers.phone, wanted)) : eq(customers.phone, wanted))
        .orderBy(desc(customers.createdAt))
        .limit(1);
      if (!customer) throw new AppError('not_found', `No customer ${wanted}`);
      process.stdout.write(`Chatting as ${customer.name ?? customer.id} (${customer.locale}). Type a message, a number for a button, or /quit.\n`);
      const externalId = `customer:${customer.id}`;
      const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
      let lastQuickReplies: { id: string; label: string }[] = [];
      let seq = 0;
      const printNew = async () => {
        const { printTranscript } = await import('./cli-chat.js');
        const result = await printTranscript(db, externalId, seq);
        seq = result.seq;
        if (result.quickReplies) lastQuickReplies = result.quickReplies;
      };
      let n = 0;
      for await (const line of rl) {
        const text = line.trim();
        if (text === '/quit' || text === '/exit') break;
        if (text === '') continue;
        n += 1;
        const index = /^\d+$/.test(text) ? Number(text) - 1 : -1;
        const choice = lastQuickReplies[index];
        await service.receive({
          channel: 'webchat',
          externalMessageId: `${externalId}/cli-${Date.now()}-${n}`,
          sender: { externalId, customerId: customer.id, displayName: customer.name },
          text: choice ? choice.label : text,
          choice: choice ? choice.id : null,
          // Whoever runs the CLI has the database in hand: they speak for the customer they chose.
          identity: { level: 'proven', basis: 'cli' },
        });
        await service.settle();
        await printNew();
      }
      rl.close();
    } finally {
      await service.stop();
    }
  });

// Feature commands register themselves from src/cli/<name>.ts.
for (const register of commandRegistrars) register(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  if (err instanceof AppError) {
    process.stderr.write(`kefu: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`kefu: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
