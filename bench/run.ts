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
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/server.ts', mode, url], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  let n = 0;
  const baseline = await load({
    url: `http://127.0.0.1:${bare.port}/bare`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'hello' }),
  });
  await stopServer(bare.child);

  const full = await startServer('full', dbUrl('kefu_bench_full'));
  const tokens: string[] = [];
  for (let i = 0; i < SESSIONS; i += 1) {
    const res = await fetch(`http://127.0.0.1:${full.port}/api/webchat/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ locale: 'zh-Hans' }),
    });
    tokens.push(((await res.json()) as { token: string }).token);
  }
  const started = Date.now();
  const intake = await load({
    url: `http://127.0.0.1:${full.port}/api/webchat/messages`,
    method: 'POST',
    requests: [
      {
        setupRequest: (req) => {
          n += 1;
          return {
            ...req,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[n % SESSIONS]}` },
            body: JSON.stringify({ clientMessageId: `b-${n}`, text: n % 3 === 0 ? '我想退款' : n % 3 === 1 ? 'hello' : '转人工' }),
          };
        },
      },
    ],
  });
  // End to end: until every stored message has been answered and every reply delivered.
  const sql = postgres(dbUrl('kefu_bench_full'), { onnotice: () => {}, max: 1 });
  let pending = 1;
  while (pending > 0 && Date.now() - started < 300_000) {
    const [row] = await sql<{ n: number }[]>`
      select (select count(*) from messages where direction = 'in' and processed_at is null)::int
           + (select count(*) from outbox where status = 'pending')::int as n`;
    pending = row?.n ?? 0;
    if (pending > 0) await new Promise((r) => setTimeout(r, 200));
  }
  const [counts] = await sql<{ inbound: number; outbound: number }[]>`
    select (select count(*) from messages where direction = 'in')::int as inbound,
           (select count(*) from messages where direction = 'out' and delivery_status = 'sent')::int as outbound`;
  await sql.end();
  const endToEndSeconds = (Date.now() - started) / 1000;
  await stopServer(full.child);

  const e2eRate = (counts?.inbound ?? 0) / endToEndSeconds;
  const rows = [
    ['bare Hono + 1 INSERT (baseline)', baseline.rps.toFixed(0), baseline.p50, baseline.p99, '1.00', '1.00'],
    ['kefu intake (POST /api/webchat/messages)', intake.rps.toFixed(0), intake.p50, intake.p99, (intake.rps / baseline.rps).toFixed(2), (intake.p99 / baseline.p99).toFixed(2)],
    ['kefu end to end (stored, answered, delivered)', e2eRate.toFixed(0), '-', '-', (e2eRate / baseline.rps).toFixed(2), '-'],
  ];
  process.stdout.write('\n| path | req/s | p50 ms | p99 ms | throughput vs baseline | p99 vs baseline |\n|---|---|---|---|---|---|\n');
  for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
  process.stdout.write(
    `\nmessages stored ${counts?.inbound}, replies delivered ${counts?.outbound}, errors ${intake.errors}, non-2xx ${intake.non2xx}; ` +
      `targets: throughput ratio >= 0.50, p99 ratio <= 3.0\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
