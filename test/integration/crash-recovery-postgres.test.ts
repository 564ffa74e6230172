import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { backends } from '../support/db.js';
import { withDatabase } from '../support/global-setup.js';

const ROOT = join(import.meta.dirname, '../..');

/** `kefu serve` on PostgreSQL, as an operator runs it; resolves with its port. */
function serve(env: Record<string, string>): { child: ChildProcess; listening: Promise<number>; output(): string } {
  const child = spawn(process.execPath, ['bin/kefu.js', 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', OUTBOX_POLL_MS: '100', SEED_ON_EMPTY: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"msg":"server.listening"[^\n]*"port":(\d+)|"port":(\d+)[^\n]*"msg":"server.listening"/.exec(out);
      if (m) resolve(Number(m[1] ?? m[2]));
    });
    child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code, signal) => reject(new Error(`kefu exited (${code ?? signal}) before listening:\n${out}`)));
  });
  listening.catch(() => {});
  return { child, listening, output: () => out };
}

async function api(port: number, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

// Several instances share PostgreSQL, so a restarted one cannot just drop every lease (as on
// PGlite): what a killed instance held must expire quickly on its own.
describe.runIf(backends().includes('postgres'))('crash recovery of `kefu serve` on PostgreSQL', () => {
  const url = process.env.TEST_DATABASE_URL ?? '';
  const name = `kefu_crash_${randomBytes(5).toString('hex')}`;
  const children: ChildProcess[] = [];
  const hanging: ServerResponse[] = [];
  let llm: Server;
  let llmPort = 0;
  let llmCalls = 0;

  beforeAll(async () => {
    const admin = postgres(url, { onnotice: () => {}, max: 1 });
    await admin.unsafe(`create database ${name} template ${inject('postgresTemplate')}`);
    await admin.end();
    // An LLM endpoint that never answers: the first instance dies in the middle of a turn, lease held.
    llm = createServer((_req: IncomingMessage, res: ServerResponse) => {
      llmCalls += 1;
      hanging.push(res);
    });
    await new Promise<void>((resolve) => llm.listen(0, '127.0.0.1', () => resolve()));
    const address = llm.address();
    llmPort = typeof address === 'object' && address ? address.port : 0;
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const res of hanging) res.destroy();
    await new Promise<void>((resolve) => llm?.close(() => resolve()));
    const admin = postgres(url, { onnotice: () => {}, max: 1 });
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  });

  it('a message whose turn was cut by kill -9 is answered by the other instance within 10 s', { timeout: 180_000 }, async () => {
    const databaseUrl = withDatabase(url, name);
    const first = serve({ DATABASE_URL: databaseUrl, OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: `http://127.0.0.1:${llmPort}/v1`, OPENAI_TIMEOUT_MS: '120000' });
    children.push(first.child);
    // The instance that survives (or the one restarted in its place) is already up: start-up time
    // on a loaded machine says nothing about leases.
    const second = serve({ DATABASE_URL: databaseUrl });
    children.push(second.child);
    const [firstPort, secondPort] = await Promise.all([first.listening, second.listening]);
    const session = await api(firstPort, 'POST', '/api/webchat/sessions', undefined, { locale: 'zh-Hans' });
    expect(session.status).toBe(201);
    const token: string = session.body.token;
    const sent = await api(firstPort, 'POST', '/api/webchat/messages', token, { clientMessageId: 'mid-turn', text: '你们这个东西到底怎么回事啊' });
    expect(sent.status).toBe(202);
    // The turn is under way (waiting on the LLM, holding the conversation lease): kill it there.
    for (const deadline = Date.now() + 20_000; llmCalls === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
    expect(llmCalls).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1000));
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const restarted = performance.now();
    let authors: string[] = [];
    for (const deadline = Date.now() + 40_000; Date.now() < deadline; ) {
      const history = await api(secondPort, 'GET', '/api/webchat/messages', token);
      authors = (history.body.messages as { author: string }[]).map((m) => m.author);
      if (answered(authors)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const drainMs = Math.round(performance.now() - restarted);
    process.stderr.write(`[crash-recovery-postgres] backlog answered ${drainMs} ms after kill -9\n`);
    // The chat opened with the greeting; the customer's one message follows and is answered.
    expect(authors.filter((a) => a === 'customer')).toHaveLength(1);
    expect(answered(authors)).toBe(true);
    expect(drainMs).toBeLessThan(10_000);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  });
});

/** The customer's message has a bot answer after it (the greeting before it does not count). */
function answered(authors: string[]): boolean {
  return authors.includes('customer') && authors.lastIndexOf('bot') > authors.indexOf('customer');
}
