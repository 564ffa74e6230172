// `npm run bench`: the whole path of a consumer message against a bare Hono endpoint doing one
// INSERT, on the same PostgreSQL, in the same run. Prints ratios, not absolute claims.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import postgres from 'postgres';

const BASE = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SESSIONS = 200;
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);

function dbUrl(name: string): string {
  const u = new URL(BASE);
  u.pathname = `/${name}`;
  return u.toString();
}

async function recreate(name: string): Promise<void> {
  const admin = postgres(BASE, { onnotice: () => {}, max: 1 });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
}

async function startServer(mode: 'bare' | 'full', url: string): Promise<{ child: ChildProcess; port: number }> {
  // BENCH_PROFILE_DIR=<dir> writes a CPU profile of the kefu server (open it in Chrome DevTools).
  const profile = mode === 'full' && process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'bench/server.ts', mode, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const match = /"port":(\d+)/.exec(line);
    if (match) return { child, port: Number(match[1]) };
  }
  throw new Error(`${mode} server exited before listening`);
}

async function stopServer(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await once(child, 'exit');
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
}

async function load(options: autocannon.Options): Promise<Result> {
  const r = await autocannon({ duration: DURATION, connections: CONNECTIONS, ...options });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
    total: r.requests.total,
  };
}

async function main(): Promise<void> {
  process.stdout.write(`kefu bench: ${DURATION}s x ${CONNECTIONS} connections per run, PostgreSQL ${new URL(BASE).host}\n`);

  await recreate('kefu_bench_bare');
  await recreate('kefu_bench_full');
  // The bare endpoint inserts into the same schema kefu uses.
  const migrate = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'migrate'], {
    env: { ...process.env, DATABASE_URL: dbUrl('kefu_bench_bare') },
    stdio: 'ignore',
  });
  await once(migrate, 'exit');

  const bare = await startServer('bare', dbUrl('kefu_bench_bare'));
  const bareRequest: autocannon.Options = {
    url: `http://127.0.0.1:${bare.port}/bare`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'hello' }),
  };
  // Both servers get the same short warm-up (JIT, pool connections), not counted.
  await load({ ...bareRequest, duration: WARMUP });
  const baseline = await load(bareRequest);
  await stopServer(bare.child);

  const full = await startServer('full', dbUrl('kefu_bench_full'));
  const fullUrl = `http://127.0.0.1:${full.port}`;
  // The warm-up chats in sessions of its own: the measured ones start fresh (no conversation yet).
  const tokens: string[] = [];
  for (let i = 0; i < 2 * SESSIONS; i += 1) {
    const res = await fetch(`${fullUrl}/api/webchat/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ locale: 'zh-Hans' }),
    });
    tokens.push(((await res.json()) as { token: string }).token);
  }
  let n = 0;
  const messageRequest = (duration: number, sessions: string[]): autocannon.Options => ({
    url: `${fullUrl}/api/webchat/messages`,
    method: 'POST',
    duration,
    requests: [
      {
        setupRequest: (req) => {
          n += 1;
          return {
            ...req,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${sessions[n % SESSIONS]}` },
            body: JSON.stringify({ clientMessageId: `b-${n}`, text: n % 3 === 0 ? '我想退款' : n % 3 === 1 ? 'hello' : '转人工' }),
          };
        },
      },
    ],
  });
  const sql = postgres(dbUrl('kefu_bench_full'), { onnotice: () => {}, max: 1 });
  const backlog = async () => {
    const [row] = await sql<{ n: number }[]>`
      select (select count(*) from messages where direction = 'in' and processed_at is null)::int
           + (select count(*) from outbox where status = 'pending')::int as n`;
    return row?.n ?? 0;
  };
  const settle = async (since: number) => {
    while ((await backlog()) > 0 && Date.now() - since < 300_000) await new Promise((r) => setTimeout(r, 200));
  };
  const countMessages = async () => {
    const [row] = await sql<{ inbound: number; outbound: number }[]>`
      select (select count(*) from messages where direction = 'in')::int as inbound,
             (select count(*) from messages where direction = 'out' and delivery_status = 'sent')::int as outbound`;
    return { inbound: row?.inbound ?? 0, outbound: row?.outbound ?? 0 };
  };
  await load(messageRequest(WARMUP, tokens.slice(SESSIONS)));
  await settle(Date.now());
  const before = await countMessages();
  await fetch(`${fullUrl}/__bench/statements/reset`, { method: 'POST' });

  const started = Date.now();
  const intake = await load(messageRequest(DURATION, tokens.slice(0, SESSIONS)));
  // End to end: until every stored message has been answered and every reply delivered.
  await settle(started);
  const endToEndSeconds = (Date.now() - started) / 1000;
  const after = await countMessages();
  await sql.end();
  const statements = (await (await fetch(`${fullUrl}/__bench/statements`)).json()) as { total: number; byStatement: Record<string, number> };
  await stopServer(full.child);
  const counts = { inbound: after.inbound - before.inbound, outbound: after.outbound - before.outbound };

  const e2eRate = (counts?.inbound ?? 0) / endToEndSeconds;
  const rows = [
    ['bare Hono + 1 INSERT (baseline)', baseline.rps.toFixed(0), baseline.p50, baseline.p99, '1.00', '1.00'],
    ['kefu intake (POST /api/webchat/messages)', intake.rps.toFixed(0), intake.p50, intake.p99, (intake.rps / baseline.rps).toFixed(2), (intake.p99 / baseline.p99).toFixed(2)],
    ['kefu end to end (stored, answered, delivered)', e2eRate.toFixed(0), '-', '-', (e2eRate / baseline.rps).toFixed(2), '-'],
  ];
  process.stdout.write('\n| path | req/s | p50 ms | p99 ms | throughput vs baseline | p99 vs baseline |\n|---|---|---|---|---|---|\n');
  for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
  const perMessage = counts.inbound > 0 ? statements.total / counts.inbound : 0;
  process.stdout.write(
    `\nmessages stored ${counts.inbound}, replies delivered ${counts.outbound}, errors ${intake.errors}, non-2xx ${intake.non2xx}; ` +
      `database statements per message (intake + bot + delivery, BEGIN/COMMIT included): ${perMessage.toFixed(1)}; ` +
      `targets: throughput ratio >= 0.50, p99 ratio <= 3.0\n`,
  );
  if (process.env.BENCH_STATEMENTS === '1') {
    process.stdout.write('\n| statements per message | statement |\n|---|---|\n');
    const sorted = Object.entries(statements.byStatement).sort((a, b) => b[1] - a[1]);
    for (const [text, count] of sorted) process.stdout.write(`| ${(count / Math.max(1, counts.inbound)).toFixed(2)} | \`${text.replaceAll('|', '\\|')}\` |\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
