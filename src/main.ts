import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Config } from './config.js';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from './db/seed.js';
import type { Logger } from './logger.js';
import { createService, type Service } from './service.js';

export interface Running {
  service: Service;
  server: ServerType;
  port: number;
  /** Stops accepting requests, finishes in-flight ones, stops the workers, closes the database. */
  shutdown(): Promise<void>;
}

/** Composition root: config → service → HTTP server, with graceful shutdown. */
export async function startServer(config: Config, logger: Logger): Promise<Running> {
  const service = await createService({ config, logger });
  await service.start();
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: service.app.fetch, port: config.PORT, hostname: config.HOST }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, database: service.database.kind, demoMode: config.demoMode }, 'server.listening');
  if (service.seeded) {
    // Printed once, at the first start of an empty database, so a newcomer can log in.
    process.stderr.write(
      `\nkefu is running on http://localhost:${port}\n` +
        `  web chat: http://localhost:${port}/\n  console:  http://localhost:${port}/console\n  admin:    http://localhost:${port}/admin\n` +
        `Demo accounts (password "${DEMO_PASSWORD}"): ${DEMO_ACCOUNTS.map((a: { email: string }) => a.email).join(', ')}\n\n`,
    );
  }
  let closing: Promise<void> | null = null;
  const shutdown = () => {
    closing ??= (async () => {
      logger.info('server.stopping');
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          // Live streams never end by themselves; cut them after a grace period.
          if ('closeAllConnections' in server) server.closeAllConnections();
        }, 3000);
        force.unref();
        server.close(() => resolve());
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      });
      await service.stop();
      logger.info('server.stopped');
    })();
    return closing;
  };
  return { service, server, port, shutdown };
}
