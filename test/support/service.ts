import { loadConfig } from '../../src/config.js';
import type { ChannelAdapter } from '../../src/core/channel.js';
import type { ChannelKind } from '../../src/core/message.js';
import type { Clock } from '../../src/core/ports.js';
import type { Database } from '../../src/db/client.js';
import { seedDemoData } from '../../src/db/seed.js';
import type { Responder } from '../../src/inbox/responder.js';
import { type Logger, silentLogger } from '../../src/logger.js';
import { createService, type Service } from '../../src/service.js';
import { type BackendName, freshDatabase } from './db.js';

export interface TestServiceOptions {
  env?: Record<string, string>;
  seed?: boolean;
  clock?: Clock;
  responder?: Responder;
  adapters?: Partial<Record<ChannelKind, ChannelAdapter>>;
  start?: boolean;
  /** A logger to capture what the service logs (default: silent). */
  logger?: Logger;
}

/** A whole kefu service on a fresh database of the given backend, for integration tests. */
export async function testService(backend: BackendName, options: TestServiceOptions = {}): Promise<Service & { close(): Promise<void> }> {
  const database: Database = await freshDatabase(backend);
  if (options.seed ?? true) await seedDemoData(database.db, { now: new Date('2026-11-22T09:00:00Z') });
  const config = loadConfig({ DATABASE_URL: 'pglite://memory', DEMO_MODE: 'true', LOG_LEVEL: 'silent', OUTBOX_POLL_MS: '50', ...options.env });
  const service = await createService({
    config,
    logger: options.logger ?? silentLogger,
    database,
    seedIfEmpty: false,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.responder ? { responder: options.responder } : {}),
    ...(options.adapters ? { adapters: options.adapters } : {}),
  });
  if (options.start) await service.start();
  return Object.assign(service, {
    async close() {
      await service.stop();
      await database.close();
    },
  });
}

/** Sends a JSON request to the app in process. */
export async function call(
  service: Service,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await service.app.request(path, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON (pages)
  }
  return { status: res.status, body: parsed };
}
