import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { messages, outbox } from '../../src/db/schema.js';

const ROOT = join(import.meta.dirname, '../..');

interface Kefu {
  child: ChildProcess;
  port: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** Runs the real CLI (`node bin/kefu.js serve`) on a PGlite directory, as an operator would. */
function spawnKefu(dataDir: string): { child: ChildProcess; exited: Kefu['exited']; output(): string; listening: Promise<number> } {
  const child = spawn(process.execPath, ['bin/kefu.js', 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: `pglite://${dataDir}`,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      OUTBOX_POLL_MS: '100',
      // The directory starts as the run's migrated template: no initdb, no demo seed (seconds each).
      SEED_ON_EMPTY: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const listening = new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      buffered += chunk.toString();
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === 'server.listening' && typeof entry.port === 'number') resolve(entry.port);
        } catch {
          // not a log line
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    void exited.then(({ code, signal }) => reject(new Error(`kefu exited (${code ?? signal}) before listening:\n${out}`)));
  });
  listening.catch(() => {});
  return { child, exited, output: () => out, listening };
}

async function startKefu(dataDir: string): Promise<Kefu> {
  const spawned = spawnKefu(dataDir);
  const port = await spawned.listening;
  return { ...spawned, port };
}

async function api(port: number, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('crash safety of `kefu serve` on embedded PGlite', () => {
  let dir: string;
  let dataDir: string;
  const children: ChildProcess[] = [];
  let token: string;
  let crashMessageId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kefu-crash-'));
    dataDir = join(dir, 'data');
    const template = new Blob([readFileSync(inject('pgliteTemplate'))]);
    const database = await openDatabase({ kind: 'pglite', dataDir }, { loadDataDir: template });
    await database.close();
  });
  afterAll(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a message accepted right before kill -9 and answers it exactly once after the restart', { timeout: 120_000 }, async () => {
    const first = await startKefu(dataDir);
    children.push(first.child);
    const session = await api(first.port, 'POST', '/api/webchat/sessions', undefined, { locale: 'zh-Hans' });
    expect(session.status).toBe(201);
    token = session.body.token;
    const sent = await api(first.port, 'POST', '/api/webchat/messages', token, { clientMessageId: 'before-crash', text: '我的券怎么用？' });
    expect(sent.status).toBe(202);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    crashMessageId = sent.body.messageId;

    const second = await startKefu(dataDir);
    children.push(second.child);
    // The same session still works, the message is there once, and the bot's answer arrives once.
    // Well within the 30 s conversation lease and 60 s outbox claim the killed process may have left.
    let history: { id: string; author: string; text: string }[] = [];
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
      history = (await api(second.port, 'GET', '/api/webchat/messages', token)).body.messages;
      // The greeting that opened the chat comes first; wait for the answer after the message.
      if (history.findLastIndex((m) => m.author === 'bot') > history.findIndex((m) => m.author === 'customer') && history.some((m) => m.author === 'customer')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(history.map((m) => m.author)).toEqual(['bot', 'customer', 'bot']);
    expect(history[1]).toMatchObject({ id: crashMessageId, text: '我的券怎么用？' });

    // Resending the same clientMessageId after the restart is still recognised.
    const again = await api(second.port, 'POST', '/api/webchat/messages', token, { clientMessageId: 'before-crash', text: '我的券怎么用？' });
    expect(again.body).toEqual({ messageId: crashMessageId, duplicate: true });

    // A second instance on the same directory refuses to start instead of corrupting it.
    const intruder = spawnKefu(dataDir);
    children.push(intruder.child);
    const refused = await intruder.exited;
    expect(refused.code).not.toBe(0);
    expect(refused.code).not.toBeNull();
    expect(intruder.output()).toMatch(/in use by process \d+/);
    // …and the running one is unharmed.
    expect((await api(second.port, 'GET', '/readyz')).status).toBe(200);

    // SIGTERM while a request is still arriving: it is finished, then the process exits 0.
    const inFlight = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const payload = JSON.stringify({ clientMessageId: 'during-shutdown', text: '还在吗？' });
      const req = request(
        {
          host: '127.0.0.1',
          port: second.port,
          method: 'POST',
          path: '/api/webchat/messages',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${token}` },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      const half = Math.floor(payload.length / 2);
      req.write(payload.slice(0, half));
      setTimeout(() => {
        second.child.kill('SIGTERM');
        setTimeout(() => req.end(payload.slice(half)), 300);
      }, 200);
    });
    const finished = await inFlight;
    expect(finished.status).toBe(202);
    const stopped = await second.exited;
    expect(stopped).toEqual({ code: 0, signal: null });
    expect(second.output()).toMatch(/"msg":"server.stopped"/);

    // The database on disk: one stored copy of each message, the crash message's reply sent once.
    const database = await openDatabase({ kind: 'pglite', dataDir });
    try {
      const db = database.db;
      const [crashed] = await db.select().from(messages).where(eq(messages.id, crashMessageId));
      expect(crashed).toBeDefined();
      const transcript = await db.select().from(messages).where(eq(messages.conversationId, crashed!.conversationId)).orderBy(asc(messages.seq));
      expect(transcript.filter((m) => m.externalId?.endsWith('/before-crash'))).toHaveLength(1);
      expect(transcript.filter((m) => m.externalId?.endsWith('/during-shutdown'))).toHaveLength(1);
      const nextInbound = transcript.find((m) => m.direction === 'in' && m.seq > crashed!.seq)?.seq ?? Number.POSITIVE_INFINITY;
      const replies = transcript.filter((m) => m.direction === 'out' && m.seq > crashed!.seq && m.seq < nextInbound);
      expect(replies).toHaveLength(1);
      expect(replies[0]?.deliveryStatus).toBe('sent');
      // A web chat reply is delivered when its turn commits: there is nothing left to send for it.
      const rows = await db.select().from(outbox).where(and(eq(outbox.messageId, replies[0]!.id)));
      expect(rows).toHaveLength(0);
    } finally {
      await database.close();
    }
  });
});
