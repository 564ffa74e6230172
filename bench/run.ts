// `npm run bench`: kefu against a bare Hono endpoint doing one INSERT, on the same database, in
// the same run, at several concurrencies; then idle live connections, LLM calls per message, and
// two instances on one PostgreSQL. Prints markdown tables and writes bench/results/latest.json.
// Ratios, not absolute claims: the machine is whatever this runs on.
//
//   npx tsx bench/run.ts [--quick] [--only=baseline,intake,e2e,idle,llm,two,pglite] [--idle=N | --idle-10k]
import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import postgres from 'postgres';
import { parse } from 'yaml';
import { LiveStream, request } from './client.js';
import { signCustomerId } from '../channels/webchat/index.js';
import { CORPUS_PATH } from './corpus.js';
import { type BenchCustomer, IDENTITY_SECRET, MIX, type MessageRecord, type OpenChat, openChat, playConversation, type Scenario, scenarioSteps, type Step } from './scripts.js';
import { HEADLINE_KEYS, type Headline, parseFlags, parseProcStat, ratio, type Summary, summarize } from './stats.js';

const PHASES = ['baseline', 'intake', 'e2e', 'idle', 'llm', 'two', 'pglite'] as const;
const flags = parseFlags(process.argv.slice(2), PHASES);
const Q = flags.quick;
const has = (p: (typeof PHASES)[number]) => flags.only.has(p);

const BASE = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CONCURRENCIES = (process.env.BENCH_CONNECTIONS ?? (Q ? '20' : '10,50,200')).split(',').map(Number);
const S = {
  concurrencies: CONCURRENCIES,
  seconds: Number(process.env.BENCH_SECONDS ?? (Q ? 4 : 10)),
  warmupSeconds: Number(process.env.BENCH_WARMUP_SECONDS ?? (Q ? 1 : 2)),
  /**
   * Bench customers seeded per kefu database; a conversation never reuses one unless they run out.
   * A reused customer's chat is in an earlier conversation's state, or still open in another
   * person's hands, and the script then waits for answers that do not come as it expects ("unanswered"
   * although the database shows every message answered): quick runs seed 40 per connection of the
   * largest run.
   */
  customers: Number(process.env.BENCH_CUSTOMERS ?? (Q ? Math.max(600, 40 * Math.max(...CONCURRENCIES)) : 8000)),
  idleConnections: flags.idle ?? (flags.full10k ? 10_000 : Q ? 200 : 2000),
  twoConcurrency: Number(process.env.BENCH_TWO_CONNECTIONS ?? (Q ? 20 : 100)),
  llmDelayMs: Number(process.env.FAKE_OPENAI_DELAY_MS ?? 300),
  llmParallel: 6,
  refundProbeConnections: 5,
  replyTimeoutMs: 20_000,
};
/** The headline ratios are read at this many connections (the issue's measurement), or the nearest run. */
const HEADLINE_CONNECTIONS = 50;

const T0 = Date.now();
const log = (line: string) => process.stderr.write(`[bench ${Math.round((Date.now() - T0) / 1000)}s] ${line}\n`);

// ---------------------------------------------------------------------------------------------
// Processes and databases

interface Server {
  child: ChildProcess;
  pid: number;
  base: string;
  /** PostgreSQL runs in processes of its own; PGlite inside the server's. */
  database: 'postgres' | 'pglite';
  customers: BenchCustomer[];
  next: number;
  wrapped: number;
}

const children = new Set<ChildProcess>();

function dbUrl(name: string): string {
  const u = new URL(BASE);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Databases are named BENCH_DB_PREFIX_<part> (default kefu_bench): two benches at once need two prefixes. */
const DB_PREFIX = process.env.BENCH_DB_PREFIX ?? 'kefu_bench';

async function recreate(part: string): Promise<string> {
  const name = `${DB_PREFIX}_${part}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`BENCH_DB_PREFIX must be lower-case letters, digits and _ (got ${DB_PREFIX})`);
  const admin = postgres(BASE, { onnotice: () => {}, max: 1 });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return dbUrl(name);
}

async function spawnJson(args: string[], env: Record<string, string>, what: string): Promise<{ child: ChildProcess; port: number; pid: number }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const match = /"port":(\d+),"pid":(\d+)/.exec(line);
    if (match) return { child, port: Number(match[1]), pid: Number(match[2]) };
  }
  throw new Error(`${what} exited before listening`);
}

/**
 * Node's flags for every server, kefu's and the bare endpoint's alike: those `npm start` runs kefu
 * with, plus one garbage-collector thread when PostgreSQL shares the machine (README "Performance":
 * V8's parallel GC threads then only compete with PostgreSQL for the same cores). BENCH_NODE_FLAGS
 * replaces them (space-separated).
 */
function serverNodeFlags(url: string): string[] {
  if (process.env.BENCH_NODE_FLAGS !== undefined) return process.env.BENCH_NODE_FLAGS.split(' ').filter(Boolean);
  return url.startsWith('pglite:') ? ['--max-semi-space-size=64'] : ['--max-semi-space-size=64', '--single-threaded-gc'];
}

async function startServer(mode: 'bare' | 'full', url: string, env: Record<string, string> = {}): Promise<Server> {
  // BENCH_PROFILE_DIR=<dir> writes a CPU profile of each kefu server (open it in Chrome DevTools).
  const profile = mode === 'full' && process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR] : [];
  const { child, port, pid } = await spawnJson(
    ['--expose-gc', ...serverNodeFlags(url), ...profile, '--import', 'tsx', 'bench/server.ts', mode, url],
    { WEBCHAT_IDENTITY_SECRET: IDENTITY_SECRET, BENCH_CUSTOMERS: String(S.customers), ...env },
    `${mode} server`,
  );
  const base = `http://127.0.0.1:${port}`;
  let customers: BenchCustomer[] = [];
  if (mode === 'full') customers = ((await request('GET', `${base}/__bench/customers`)).body as { customers: BenchCustomer[] }).customers;
  return { child, pid, base, database: url.startsWith('pglite:') ? 'pglite' : 'postgres', customers, next: 0, wrapped: 0 };
}

async function stopServer(server: Server | { child: ChildProcess }): Promise<void> {
  if (server.child.exitCode !== null) return;
  server.child.kill('SIGTERM');
  await once(server.child, 'exit');
}

/** The next unused bench customer of a server (shared with the other servers on its database). */
function nextCustomer(server: Server, shared?: Server): BenchCustomer {
  const owner = shared ?? server;
  if (owner.customers.length === 0) throw new Error('no bench customers');
  if (owner.next >= owner.customers.length) {
    owner.next = 0;
    owner.wrapped += 1;
  }
  const c = owner.customers[owner.next];
  owner.next += 1;
  if (!c) throw new Error('no bench customer');
  return c;
}

async function backlog(server: Server): Promise<number> {
  return ((await request('GET', `${server.base}/__bench/backlog`)).body as { n: number }).n;
}

/** Waits until every stored message is answered and every reply delivered (5 min at most). */
async function settle(server: Server, since = performance.now()): Promise<number> {
  while ((await backlog(server)) > 0 && performance.now() - since < 300_000) await sleep(100);
  return performance.now();
}

async function counts(server: Server): Promise<{ inbound: number; outbound: number }> {
  return (await request('GET', `${server.base}/__bench/counts`)).body as { inbound: number; outbound: number };
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/**
 * CPU time (user + system, ms) so far of one process, from the kernel's own accounting: steadier
 * than req/s on a shared machine. 0 when it is gone.
 */
function processCpuMs(pid: number | string): number {
  try {
    return (parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.ticks ?? 0) * (1000 / CLOCK_TICKS);
  } catch {
    return 0;
  }
}

/**
 * The same for all of PostgreSQL's processes together. Processes that exit between two readings
 * take their time with them, so this is read around phases whose connections stay open.
 */
function postgresCpuMs(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') total += processCpuMs(entry);
    } catch {
      // gone meanwhile
    }
  }
  return total;
}
/** USER_HZ: Linux reports process times in these (100 on every common configuration). */
const CLOCK_TICKS = Number(process.env.BENCH_CLOCK_TICKS ?? 100);
/** PostgreSQL's processes can be read here only when it runs on this machine. */
const LOCAL_POSTGRES = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(new URL(BASE).hostname) && existsSync('/proc/self/stat');

/** Jiffies of all cores together, busy and in all, from /proc/stat's first line (null without it). */
function machineJiffies(): { busy: number; total: number } | null {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Runs `work` and tells how busy the whole machine was meanwhile (0..1 of all its cores). */
async function withMachineBusy<T>(work: () => Promise<T>): Promise<{ result: T; busy: number | null }> {
  const before = machineJiffies();
  const result = await work();
  const after = machineJiffies();
  const busy = before && after && after.total > before.total ? Math.round(((after.busy - before.busy) / (after.total - before.total)) * 100) / 100 : null;
  return { result, busy };
}

/** CPU per message, µs: the server process (kefu or the bare endpoint, PGlite inside it), PostgreSQL's processes, this load generator. */
interface CpuPerMessage {
  server: number;
  postgres: number | null;
  loadGenerator: number;
}

/** The CPU a message costs the machine's servers: the server process and PostgreSQL's (the load generator left out). */
function busyCpu(x: CpuPerMessage | null | undefined): number | undefined {
  return x ? x.server + (x.postgres ?? 0) : undefined;
}

/** Starts counting CPU for a measurement; the returned function divides by the messages it handled. */
function cpuMeter(server: Server): (messages: number) => CpuPerMessage | null {
  if (!existsSync('/proc/self/stat')) return () => null;
  const readPg = () => (server.database === 'postgres' && LOCAL_POSTGRES ? postgresCpuMs() : null);
  const s0 = processCpuMs(server.pid);
  const p0 = readPg();
  const c0 = process.cpuUsage();
  return (messages) => {
    if (messages <= 0) return null;
    const p1 = readPg();
    const c = process.cpuUsage(c0);
    const per = (ms: number) => round((ms * 1000) / messages);
    return {
      server: per(processCpuMs(server.pid) - s0),
      postgres: p0 === null || p1 === null ? null : per(p1 - p0),
      loadGenerator: per((c.user + c.system) / 1000),
    };
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `n` workers until `seconds` pass; each calls `step` in a loop (closed loop, no think time). */
async function closedLoop(n: number, seconds: number, step: (worker: number, deadline: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: n }, async (_, w) => {
      while (performance.now() < deadline) await step(w, deadline);
    }),
  );
  return (performance.now() - started) / 1000;
}

// ---------------------------------------------------------------------------------------------
// Measurements

interface BareResult {
  connections: number;
  rps: number;
  latency: Summary;
  errors: number;
  /** CPU per stored request while measuring (null without /proc). */
  cpuPerMessage: CpuPerMessage | null;
}

async function measureBare(server: Server, connections: number): Promise<BareResult> {
  const one = async (latencies: number[] | null, failures: { n: number }) => {
    try {
      const res = await request('POST', `${server.base}/bare`, { text: 'hello' });
      if (res.status >= 200 && res.status < 300) latencies?.push(res.ms);
      else failures.n += 1;
    } catch {
      failures.n += 1;
    }
  };
  await closedLoop(connections, S.warmupSeconds, () => one(null, { n: 0 }));
  const latencies: number[] = [];
  const failures = { n: 0 };
  const cpu = cpuMeter(server);
  const seconds = await closedLoop(connections, S.seconds, () => one(latencies, failures));
  return { connections, rps: round(latencies.length / seconds), latency: summarize(latencies), errors: failures.n, cpuPerMessage: cpu(latencies.length) };
}

interface IntakeResult {
  connections: number;
  /** POST /api/webchat/messages answered 202 per second while sending. */
  rps: number;
  latency: Summary;
  errors: number;
  messages: number;
  /** Stored, answered by the flows and every reply delivered, per second, until settled. */
  e2eRate: number;
  settleSeconds: number;
  statementsPerMessage: number | null;
  /** CPU per stored message from the first message to the last reply delivered (null without /proc). */
  cpuPerMessage: CpuPerMessage | null;
}

/** Messages as fast as the connections allow, each session's in order, not waiting for answers. */
async function measureIntake(server: Server, connections: number): Promise<IntakeResult> {
  const openSessions = async (n: number) => {
    const sessions: { token: string; customer: BenchCustomer; k: number }[] = [];
    await closedLoopCount(n, 10, async () => {
      const customer = nextCustomer(server);
      const res = await request('POST', `${server.base}/api/webchat/sessions`, {
        customerId: customer.id,
        signature: signCustomerId(customer.id, IDENTITY_SECRET),
        locale: 'zh-Hans',
      });
      sessions.push({ token: (res.body as { token: string }).token, customer, k: sessions.length });
    });
    return sessions;
  };
  const texts = (customer: BenchCustomer) => ['你好', `我想退款，订单号 ${customer.orderNumber}`, '我要投诉，店家不让用券', '转人工'];
  let n = 0;
  const send = async (sessions: { token: string; customer: BenchCustomer; k: number }[], w: number, latencies: number[] | null, failures: { n: number }) => {
    // Worker w owns sessions w, w + connections, …: one message of a session in flight at a time.
    const own = sessions.filter((s) => s.k % connections === w);
    const session = own[n % own.length];
    n += 1;
    if (!session) return;
    const list = texts(session.customer);
    const text = list[(session.k + n) % list.length] ?? '你好';
    try {
      const res = await request('POST', `${server.base}/api/webchat/messages`, { clientMessageId: `f${n}`, text }, { authorization: `Bearer ${session.token}` });
      if (res.status === 202) latencies?.push(res.ms);
      else failures.n += 1;
    } catch {
      failures.n += 1;
    }
  };
  const warm = await openSessions(Math.max(20, connections * 2));
  await closedLoop(connections, S.warmupSeconds, (w) => send(warm, w, null, { n: 0 }));
  const sessions = await openSessions(Math.max(20, connections * 2));
  await settle(server);
  const before = await counts(server);
  await request('POST', `${server.base}/__bench/statements/reset`);
  const latencies: number[] = [];
  const failures = { n: 0 };
  const cpu = cpuMeter(server);
  const started = performance.now();
  const seconds = await closedLoop(connections, S.seconds, (w) => send(sessions, w, latencies, failures));
  const settled = await settle(server, started);
  const after = await counts(server);
  const stored = after.inbound - before.inbound;
  const cpuPerMessage = cpu(stored);
  const statements = (await request('GET', `${server.base}/__bench/statements`)).body as { total: number; byStatement: Record<string, number> } | null;
  printStatements(statements, stored, `${connections} connections`);
  return {
    connections,
    rps: round(latencies.length / seconds),
    latency: summarize(latencies),
    errors: failures.n,
    messages: stored,
    e2eRate: round(stored / ((settled - started) / 1000)),
    settleSeconds: round((settled - started) / 1000 - seconds),
    statementsPerMessage: statements && statements.total > 0 && stored > 0 ? round(statements.total / stored) : null,
    cpuPerMessage,
  };
}

/** Runs `total` tasks with at most `parallel` at a time. */
async function closedLoopCount(total: number, parallel: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, total) }, async () => {
      while (next < total) {
        const i = next;
        next += 1;
        await task(i);
      }
    }),
  );
}

interface ConversationsResult {
  connections: number;
  conversations: number;
  messages: number;
  /** Inbound messages (the chat's opening included) stored, answered and delivered per second, until settled. */
  e2eRate: number;
  intake: Summary;
  /** POST → first bot message on the consumer's live stream. */
  reply: Summary;
  replyByScenario: Partial<Record<Scenario, Summary>>;
  unanswered: number;
  offScript: number;
  errors: number;
}

/** BENCH_STATEMENTS=1: which statements a message costs (PostgreSQL), most frequent first. */
function printStatements(statements: { byStatement: Record<string, number> } | null, stored: number, what: string): void {
  if (process.env.BENCH_STATEMENTS !== '1' || !statements || stored <= 0) return;
  const rows = Object.entries(statements.byStatement).sort((x, y) => y[1] - x[1]);
  process.stdout.write(`\n| statements per message (${what}) | statement |\n|---|---|\n`);
  for (const [text, n] of rows) process.stdout.write(`| ${(n / stored).toFixed(2)} | \`${text.replaceAll('|', '\\|')}\` |\n`);
}

/** `connections` people, each in one conversation at a time, each message after the answer to the last. */
async function measureConversations(
  servers: Server[],
  connections: number,
  seconds = S.seconds,
  scenarios: readonly Exclude<Scenario, 'corpus'>[] = MIX,
  warmup = true,
): Promise<ConversationsResult> {
  const owner = servers[0];
  if (!owner) throw new Error('no server');
  let conversationIndex = 0;
  // Chats opened before the clock starts: everyone is already talking when the measurement begins
  // (a person opening a new chat during it is measured, as it loads the service too).
  const ready = new Map<number, { chat: OpenChat; customer: BenchCustomer }>();
  const openFor = async (w: number) => {
    const server = servers[w % servers.length] ?? owner;
    const customer = nextCustomer(server, owner);
    try {
      ready.set(w, { chat: await openChat(server.base, customer, 'zh-Hans', S.replyTimeoutMs), customer });
    } catch (err) {
      log(`opening a chat failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const play = async (w: number, deadline: number, records: MessageRecord[] | null, tally: { conversations: number; errors: number }) => {
    const server = servers[w % servers.length] ?? owner;
    const scenario = scenarios[conversationIndex % scenarios.length] ?? 'greeting';
    conversationIndex += 1;
    const prepared = ready.get(w);
    ready.delete(w);
    const customer = prepared?.customer ?? nextCustomer(server, owner);
    try {
      await playConversation({
        base: server.base,
        customer,
        scenario,
        steps: scenarioSteps(scenario, customer),
        deadline,
        replyTimeoutMs: S.replyTimeoutMs,
        record: (r) => records?.push(r),
        ...(prepared ? { chat: prepared.chat } : {}),
      });
      tally.conversations += 1;
    } catch (err) {
      tally.errors += 1;
      if (tally.errors <= 3) log(`conversation failed: ${err instanceof Error ? err.message : String(err)}`);
      await sleep(50);
    }
  };
  if (warmup) await closedLoop(connections, S.warmupSeconds, (w, d) => play(w, d, null, { conversations: 0, errors: 0 }));
  await closedLoopCount(connections, 20, openFor);
  for (const s of servers) await settle(s);
  const before = await counts(owner);
  await request('POST', `${owner.base}/__bench/statements/reset`);
  const records: MessageRecord[] = [];
  const tally = { conversations: 0, errors: 0 };
  const started = performance.now();
  await closedLoop(connections, seconds, (w, d) => play(w, d, records, tally));
  let settled = performance.now();
  for (const s of servers) settled = await settle(s, started);
  const after = await counts(owner);
  printStatements((await request('GET', `${owner.base}/__bench/statements`)).body as { byStatement: Record<string, number> } | null, after.inbound - before.inbound, `${connections} people`);
  const replies = records.flatMap((r) => (r.replyMs === null ? [] : [r.replyMs]));
  const byScenario: Partial<Record<Scenario, Summary>> = {};
  for (const sc of new Set(records.map((r) => r.scenario))) {
    byScenario[sc] = summarize(records.filter((r) => r.scenario === sc && r.replyMs !== null).map((r) => r.replyMs ?? 0));
  }
  return {
    connections,
    conversations: tally.conversations,
    messages: records.length,
    e2eRate: round((after.inbound - before.inbound) / ((settled - started) / 1000)),
    intake: summarize(records.map((r) => r.intakeMs)),
    reply: summarize(replies),
    replyByScenario: byScenario,
    unanswered: records.filter((r) => r.replyMs === null).length,
    offScript: records.filter((r) => r.offScript).length,
    errors: tally.errors + records.filter((r) => r.status !== 202).length,
  };
}

interface BackendResult {
  byConnections: Record<string, { baseline?: BareResult; intake?: IntakeResult; conversations?: ConversationsResult }>;
  customersReused: number;
}

/** Baseline, intake and conversations on one database kind at every concurrency. */
async function backendRun(kind: 'postgres' | 'pglite', what: { baseline: boolean; intake: boolean; e2e: boolean }): Promise<BackendResult> {
  const out: BackendResult = { byConnections: {}, customersReused: 0 };
  const slot = (c: number) => (out.byConnections[String(c)] ??= {});
  if (what.baseline) {
    const url = kind === 'postgres' ? await recreate('bare') : 'pglite://memory';
    if (kind === 'postgres') {
      const migrate = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'migrate'], { env: { ...process.env, DATABASE_URL: url }, stdio: 'ignore' });
      await once(migrate, 'exit');
    }
    const bare = await startServer('bare', url);
    for (const c of S.concurrencies) {
      log(`${kind}: bare endpoint, ${c} connections`);
      slot(c).baseline = await measureBare(bare, c);
    }
    await stopServer(bare);
  }
  if (what.intake || what.e2e) {
    const url = kind === 'postgres' ? await recreate('full') : 'pglite://memory';
    log(`${kind}: starting kefu (seeding ${S.customers} bench customers)`);
    const full = await startServer('full', url);
    for (const c of S.concurrencies) {
      if (what.intake) {
        log(`${kind}: kefu intake, ${c} connections`);
        slot(c).intake = await measureIntake(full, c);
      }
      if (what.e2e) {
        log(`${kind}: kefu conversations, ${c} connections`);
        slot(c).conversations = await measureConversations([full], c);
      }
    }
    out.customersReused = full.wrapped;
    await stopServer(full);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Idle live connections

interface IdleResult {
  connections: number;
  sessions: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  heapGrowthMiB: number;
  idleRssMiBPer1000: number;
  /** A message sent while all of them are connected: POST → reply on its stream. */
  replyWhileConnectedMs: number | null;
  openSeconds: number;
}

/** Lets garbage of what came before go: two full collections a while apart, then a pause. */
async function quiet(server: Server): Promise<void> {
  await sleep(1000);
  await request('POST', `${server.base}/__bench/gc`);
  await sleep(1000);
  await request('POST', `${server.base}/__bench/gc`);
  await sleep(1500);
}

async function measureIdle(): Promise<IdleResult> {
  const limit = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim());
  let n = S.idleConnections;
  if (Number.isFinite(limit) && n + 500 > limit) {
    log(`ulimit -n is ${limit}: ${n} connections need about ${n + 500} descriptors per process; run \`ulimit -n ${n + 1000}\` first. Using ${limit - 500}.`);
    n = limit - 500;
  }
  const url = await recreate('idle');
  const server = await startServer('full', url, { BENCH_CUSTOMERS: '0' });
  // Anonymous visitors who opened the chat (each session's greeting is answered before measuring).
  const tokens: string[] = [];
  await closedLoopCount(n, 16, async () => {
    const res = await request('POST', `${server.base}/api/webchat/sessions`, { locale: 'zh-Hans' });
    tokens.push((res.body as { token: string }).token);
  });
  await settle(server);
  // One stream opened and closed first, so code paths loaded once do not count as per-connection memory.
  const probe = new LiveStream(server.base, tokens[0] ?? '');
  await probe.opened;
  await probe.waitFor(() => true, 10_000);
  probe.close();
  await quiet(server);
  const before = rssMiB(server.pid);
  const heapBefore = ((await request('GET', `${server.base}/__bench/memory`)).body as { heapUsed: number }).heapUsed;
  const started = performance.now();
  const streams: LiveStream[] = [];
  for (let i = 0; i < tokens.length; i += 500) {
    const batch = tokens.slice(i, i + 500).map((t) => new LiveStream(server.base, t));
    streams.push(...batch);
    await Promise.all(batch.map((s) => s.opened));
    await Promise.all(batch.map((s) => s.waitFor(() => true, 30_000)));
  }
  const openSeconds = (performance.now() - started) / 1000;
  await quiet(server);
  const after = rssMiB(server.pid);
  const heapAfter = ((await request('GET', `${server.base}/__bench/memory`)).body as { heapUsed: number }).heapUsed;
  // Live delivery still works with all of them connected.
  let replyWhileConnectedMs: number | null = null;
  const last = streams.at(-1);
  const token = tokens.at(-1);
  if (last && token) {
    const sentAt = Date.now();
    const t0 = performance.now();
    await request('POST', `${server.base}/api/webchat/messages`, { clientMessageId: 'idle-probe', text: '你好' }, { authorization: `Bearer ${token}` });
    const got = await last.waitFor((m) => m.author !== 'customer' && Date.parse(m.createdAt) >= sentAt - 1, 20_000);
    replyWhileConnectedMs = got ? round(got.at - t0) : null;
  }
  for (const s of streams) s.close();
  await stopServer(server);
  return {
    connections: streams.length,
    sessions: tokens.length,
    rssBeforeMiB: round(before),
    rssAfterMiB: round(after),
    heapGrowthMiB: round((heapAfter - heapBefore) / 1024 / 1024),
    idleRssMiBPer1000: round(((after - before) / streams.length) * 1000),
    replyWhileConnectedMs,
    openSeconds: round(openSeconds),
  };
}

// ---------------------------------------------------------------------------------------------
// LLM calls per inbound message

interface LlmResult {
  delayMs: number;
  conversations: number;
  inboundMessages: number;
  buttonPresses: number;
  typed: number;
  calls: { classify: number; summarize: number };
  llmCallsPerInboundMessage: number;
  unanswered: number;
  offScript: number;
  refundReplyWithoutLlm: Summary;
  refundReplyWithLlm: Summary;
  refundLlmCalls: number;
  refundMessages: number;
}

async function measureLlm(): Promise<LlmResult> {
  const refundsOnly = ['refund'] as const;
  const probeSeconds = Math.max(3, Math.round(S.seconds / 2));
  // Refund conversations without an LLM, then with one: the refund path must not wait on it.
  const plainUrl = await recreate('llm_off');
  const plain = await startServer('full', plainUrl, { BENCH_CUSTOMERS: String(Math.min(S.customers, 2000)) });
  log('llm: refund conversations without an LLM');
  const without = await measureConversations([plain], S.refundProbeConnections, probeSeconds, refundsOnly);
  await stopServer(plain);

  const fake = await spawnJson(['--import', 'tsx', 'bench/fake-openai.ts'], { FAKE_OPENAI_DELAY_MS: String(S.llmDelayMs) }, 'fake OpenAI server');
  const fakeBase = `http://127.0.0.1:${fake.port}`;
  const url = await recreate('llm');
  const server = await startServer('full', url, {
    BENCH_CUSTOMERS: String(Math.min(S.customers, 2000)),
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: `${fakeBase}/v1`,
    OPENAI_TIMEOUT_MS: '4000',
  });
  const corpus = parse(readFileSync(CORPUS_PATH, 'utf8')) as {
    conversations: { name: string; locale: 'zh-Hans' | 'zh-Hant' | 'en'; messages: ({ text: string } | { button: string })[] }[];
  };
  const list = Q ? corpus.conversations.filter((_, i) => i % 4 === 0) : corpus.conversations;
  await request('POST', `${fakeBase}/__calls/reset`);
  const records: MessageRecord[] = [];
  let buttons = 0;
  let typed = 0;
  log(`llm: ${list.length} scripted conversations, fake model answering after ${S.llmDelayMs} ms`);
  await closedLoopCount(list.length, S.llmParallel, async (i) => {
    const c = list[i];
    if (!c) return;
    const steps: Step[] = c.messages.map((m) => ('text' in m ? { text: m.text } : { press: [m.button] }));
    await playConversation({
      base: server.base,
      customer: nextCustomer(server),
      scenario: 'corpus',
      steps,
      locale: c.locale,
      deadline: Infinity,
      replyTimeoutMs: S.replyTimeoutMs,
      record: (r) => records.push(r),
    });
  });
  for (const c of list) for (const m of c.messages) ('text' in m ? (typed += 1) : (buttons += 1));
  await settle(server);
  const calls = (await request('GET', `${fakeBase}/__calls`)).body as { classify: number; summarize: number };
  log('llm: refund conversations with the LLM configured');
  await request('POST', `${fakeBase}/__calls/reset`);
  const withLlm = await measureConversations([server], S.refundProbeConnections, probeSeconds, refundsOnly);
  const refundCalls = (await request('GET', `${fakeBase}/__calls`)).body as { classify: number; summarize: number };
  await stopServer(server);
  await stopServer(fake);
  const total = calls.classify + calls.summarize;
  return {
    delayMs: S.llmDelayMs,
    conversations: list.length,
    inboundMessages: records.length,
    buttonPresses: buttons,
    typed,
    calls: { classify: calls.classify, summarize: calls.summarize },
    llmCallsPerInboundMessage: records.length > 0 ? Math.round((total / records.length) * 1000) / 1000 : 0,
    unanswered: records.filter((r) => r.replyMs === null).length,
    offScript: records.filter((r) => r.offScript).length,
    refundReplyWithoutLlm: without.reply,
    refundReplyWithLlm: withLlm.reply,
    refundLlmCalls: refundCalls.classify + refundCalls.summarize,
    refundMessages: withLlm.messages,
  };
}

// ---------------------------------------------------------------------------------------------
// Two instances on one PostgreSQL

interface TwoResult {
  connections: number;
  one: ConversationsResult;
  two: ConversationsResult;
  twoInstanceSpeedup: number | null;
  /** Share of all the machine's cores busy during each run (kefu, PostgreSQL, the load generator). */
  machineBusy: { one: number | null; two: number | null };
  exactlyOnce: { turns: number; unanswered: number; answeredTwice: number; outboxRowsNotSent: number; ok: boolean };
  crossInstance: { crossed: boolean; ms: number | null; detail: string };
}

async function measureTwo(): Promise<TwoResult> {
  const url = await recreate('two');
  const a = await startServer('full', url);
  const c = S.twoConcurrency;
  // Long enough that the people get past opening their chats even on a busy machine.
  const seconds = Math.max(S.seconds, 6);
  log(`two: one instance, ${c} connections`);
  // How busy one instance keeps the machine (PostgreSQL and this load generator share it): a second
  // instance can only add what is left.
  const { result: one, busy: oneBusy } = await withMachineBusy(() => measureConversations([a], c, seconds));
  const b = await startServer('full', url, { BENCH_CUSTOMERS: '0' });
  log(`two: two instances, ${c} connections split across both`);
  const since = new Date();
  const { result: two, busy: twoBusy } = await withMachineBusy(() => measureConversations([a, b], c, seconds));
  const sql = postgres(url, { onnotice: () => {}, max: 1 });
  try {
    // Every inbound message of the two-instance run followed by exactly one answer: the people wait
    // for each answer, so in a conversation's order each inbound is followed by its own replies;
    // answered twice would repeat a reply's text before the next inbound.
    const [check] = await sql<{ turns: number; unanswered: number; twice: number }[]>`
      with m as (
        select conversation_id, seq, direction, text,
               sum(case when direction = 'in' then 1 else 0 end) over (partition by conversation_id order by seq) as turn
        from messages
        where conversation_id in (select id from conversations where created_at >= ${since})
      ), t as (
        select conversation_id, turn,
               count(*) filter (where direction = 'out') as outs,
               count(distinct text) filter (where direction = 'out') as distinct_outs
        from m where turn > 0 group by conversation_id, turn
      )
      select count(*)::int as turns,
             count(*) filter (where outs = 0)::int as unanswered,
             count(*) filter (where outs > distinct_outs)::int as twice
      from t`;
    // Progress notices (a refund paid) are written by timers as they fall due, the last of them
    // moments before this check: undelivered means still not sent after the outbox had time.
    const unsent = async () =>
      (
        await sql<{ n: number }[]>`
          select count(*)::int as n from outbox o join messages m on m.id = o.message_id
          where m.created_at >= ${since} and o.status <> 'sent'`
      )[0];
    const waitUntil = performance.now() + 30_000;
    let notSent = await unsent();
    while ((notSent?.n ?? 0) > 0 && performance.now() < waitUntil) {
      await sleep(200);
      notSent = await unsent();
    }
    const crossInstance = await crossInstanceEvent(a, b, sql);
    const exactlyOnce = {
      turns: check?.turns ?? 0,
      unanswered: check?.unanswered ?? 0,
      answeredTwice: check?.twice ?? 0,
      outboxRowsNotSent: notSent?.n ?? 0,
      ok: (check?.unanswered ?? 1) === 0 && (check?.twice ?? 1) === 0 && (notSent?.n ?? 1) === 0,
    };
    return { connections: c, one, two, twoInstanceSpeedup: ratio(two.e2eRate, one.e2eRate), machineBusy: { one: oneBusy, two: twoBusy }, exactlyOnce, crossInstance };
  } finally {
    await sql.end();
    await stopServer(b);
    await stopServer(a);
  }
}

/** A consumer's live stream on instance A sees the reply an agent posts on instance B. */
async function crossInstanceEvent(a: Server, b: Server, sql: postgres.Sql): Promise<TwoResult['crossInstance']> {
  const customer = nextCustomer(a);
  const conversation = await playConversation({
    base: a.base,
    customer,
    scenario: 'handoff',
    steps: scenarioSteps('handoff', customer),
    deadline: Infinity,
    replyTimeoutMs: S.replyTimeoutMs,
    record: () => {},
    keepOpen: true,
  });
  const stream = conversation.stream;
  try {
    const [row] = await sql<{ id: string }[]>`select id from conversations where customer_id = ${customer.id} order by created_at desc limit 1`;
    if (!row || !stream) return { crossed: false, ms: null, detail: 'no conversation for the handoff' };
    const login = await request('POST', `${b.base}/api/auth/login`, { email: 'agent1@kefu.demo', password: 'kefu-demo' }, { origin: b.base });
    if (login.status !== 200) return { crossed: false, ms: null, detail: `login on B answered ${login.status}` };
    const auth = { authorization: `Bearer ${(login.body as { token: string }).token}` };
    const claim = await request('POST', `${b.base}/api/console/conversations/${row.id}/claim`, undefined, auth);
    if (claim.status !== 200) return { crossed: false, ms: null, detail: `claim on B answered ${claim.status}: ${JSON.stringify(claim.body)}` };
    const sentAt = Date.now();
    const t0 = performance.now();
    const reply = await request('POST', `${b.base}/api/console/conversations/${row.id}/reply`, { text: '您好，我是客服李明，我来帮您。' }, auth);
    if (reply.status !== 201) return { crossed: false, ms: null, detail: `reply on B answered ${reply.status}` };
    const seen = await stream.waitFor((m) => m.author === 'agent' && Date.parse(m.createdAt) >= sentAt - 1, 10_000);
    return seen
      ? { crossed: true, ms: round(seen.at - t0), detail: "agent reply posted on B arrived on the consumer's live stream on A" }
      : { crossed: false, ms: null, detail: 'agent reply posted on B did not arrive on A within 10 s' };
  } finally {
    stream?.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

function machine() {
  const sh = (cmd: string) => {
    try {
      return execSync(cmd, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    } catch {
      return null;
    }
  };
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    memoryGiB: round(os.totalmem() / 1024 ** 3),
    loadAverage: os.loadavg().map(round),
    node: process.version,
    serverNodeFlags: { postgres: serverNodeFlags('postgres:'), pglite: serverNodeFlags('pglite:') },
    commit: sh('git rev-parse --short HEAD'),
    dirty: (sh('git status --porcelain --untracked-files=no') ?? '') !== '',
    date: new Date().toISOString(),
  };
}

/**
 * The PostgreSQL server's version and the settings that shape its figures. `autovacuum` above all:
 * a server without it never analyzes or vacuums the bench's tables, so kefu's statements keep the
 * plans they got while the tables were empty and its hot rows bloat (some machines here run it off).
 */
async function postgresServer(): Promise<{ version: string; settings: Record<string, string> } | null> {
  const sql = postgres(BASE, { onnotice: () => {}, max: 1 });
  try {
    const rows = await sql<{ name: string; setting: string }[]>`
      select name, current_setting(name) as setting from pg_settings
      where name in ('server_version', 'autovacuum', 'synchronous_commit', 'shared_buffers', 'max_connections')`;
    const settings = Object.fromEntries(rows.map((r) => [r.name, r.setting]));
    const { server_version: version, ...rest } = settings;
    return version ? { version, settings: rest } : null;
  } catch {
    return null;
  } finally {
    await sql.end();
  }
}

/** Ratios at the headline concurrency: firehose intake (as the issue measured), else conversations. */
function headlineRatios(r: BackendResult | undefined): {
  throughputRatio: number | null;
  p99Ratio: number | null;
  cpuRatio?: number | null;
  connections: number | null;
  source: string | null;
} {
  if (!r) return { throughputRatio: null, p99Ratio: null, connections: null, source: null };
  const available = Object.keys(r.byConnections).map(Number);
  const c = available.includes(HEADLINE_CONNECTIONS) ? HEADLINE_CONNECTIONS : available.sort((x, y) => Math.abs(x - HEADLINE_CONNECTIONS) - Math.abs(y - HEADLINE_CONNECTIONS))[0];
  if (c === undefined) return { throughputRatio: null, p99Ratio: null, connections: null, source: null };
  const row = r.byConnections[String(c)];
  const base = row?.baseline;
  if (row?.intake) {
    return {
      throughputRatio: ratio(row.intake.e2eRate, base?.rps),
      p99Ratio: ratio(row.intake.latency.p99, base?.latency.p99),
      cpuRatio: ratio(busyCpu(row.intake.cpuPerMessage), busyCpu(base?.cpuPerMessage)),
      connections: c,
      source: 'intake',
    };
  }
  if (row?.conversations) {
    return { throughputRatio: ratio(row.conversations.e2eRate, base?.rps), p99Ratio: ratio(row.conversations.intake.p99, base?.latency.p99), connections: c, source: 'conversations' };
  }
  return { throughputRatio: null, p99Ratio: null, connections: c, source: null };
}

function backendTables(name: string, r: BackendResult): string {
  const lines: string[] = [];
  const f = (v: number | null | undefined) => (v === null || v === undefined ? '-' : String(v));
  const pp = (x: Summary | undefined, all = true) => (!x || x.n === 0 ? '-' : all ? `${x.p50} / ${x.p95} / ${x.p99}` : `${x.p50} / ${x.p99}`);
  lines.push(`\n### ${name}: bare Hono + 1 INSERT vs kefu\n`);
  lines.push('| connections | bare req/s | bare p50 / p99 ms | kefu intake msg/s | intake p50 / p95 / p99 ms | end to end msg/s | throughput × bare | intake p99 × bare | statements / msg |');
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const [c, row] of Object.entries(r.byConnections)) {
    const b = row.baseline;
    const i = row.intake;
    lines.push(
      `| ${c} | ${f(b?.rps)} | ${b ? `${b.latency.p50} / ${b.latency.p99}` : '-'} | ${f(i?.rps)} | ${pp(i?.latency)} | ${f(i?.e2eRate)} | ${f(ratio(i?.e2eRate, b?.rps))} | ${f(ratio(i?.latency.p99, b?.latency.p99))} | ${f(i?.statementsPerMessage)} |`,
    );
  }
  if (Object.values(r.byConnections).some((row) => row.intake?.cpuPerMessage)) {
    // The machine's time per message, the steadier figure when req/s swing with the host's load.
    const cpu = (x: CpuPerMessage | null | undefined) => (x ? `${x.server} / ${x.postgres ?? '-'} / ${x.loadGenerator}` : '-');
    lines.push(`\n### ${name}: CPU per message, µs (server / PostgreSQL / load generator)\n`);
    lines.push('| connections | bare endpoint | kefu, intake to reply delivered | kefu ÷ bare (server + PostgreSQL) |');
    lines.push('|---|---|---|---|');
    for (const [c, row] of Object.entries(r.byConnections)) {
      lines.push(`| ${c} | ${cpu(row.baseline?.cpuPerMessage)} | ${cpu(row.intake?.cpuPerMessage)} | ${f(ratio(busyCpu(row.intake?.cpuPerMessage), busyCpu(row.baseline?.cpuPerMessage)))} |`);
    }
  }
  if (Object.values(r.byConnections).some((row) => row.conversations)) {
    lines.push(`\n### ${name}: conversations (refund, complaint, handoff, greeting; each message after the answer to the last)\n`);
    lines.push('| people | conversations | messages | end to end msg/s | throughput × bare | intake p50 / p95 / p99 ms | reply p50 / p95 / p99 ms | refund reply p50 / p99 ms | unanswered | errors |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const [c, row] of Object.entries(r.byConnections)) {
      const v = row.conversations;
      if (!v) continue;
      const refund = v.replyByScenario.refund;
      lines.push(
        `| ${c} | ${v.conversations} | ${v.messages} | ${v.e2eRate} | ${f(ratio(v.e2eRate, row.baseline?.rps))} | ${pp(v.intake)} | ${pp(v.reply)} | ${pp(refund, false)} | ${v.unanswered} | ${v.errors} |`,
      );
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  const results: Record<string, unknown> = {};
  log(`phases ${[...flags.only].join(', ')}; ${S.seconds} s per measurement at ${S.concurrencies.join(', ')} connections${Q ? ' (quick)' : ''}`);
  const server = await postgresServer();
  const pgMachine = { ...machine(), postgres: server?.version ?? null, postgresSettings: server?.settings ?? null };

  let pg: BackendResult | undefined;
  if (has('baseline') || has('intake') || has('e2e')) {
    pg = await backendRun('postgres', { baseline: has('baseline') || has('intake') || has('e2e'), intake: has('intake'), e2e: has('e2e') });
    results.postgres = pg;
  }
  let pglite: BackendResult | undefined;
  if (has('pglite')) {
    pglite = await backendRun('pglite', { baseline: true, intake: true, e2e: true });
    results.pglite = pglite;
  }
  let idle: IdleResult | undefined;
  if (has('idle')) {
    log(`idle: ${S.idleConnections} live connections`);
    idle = await measureIdle();
    results.idle = idle;
  }
  let llm: LlmResult | undefined;
  if (has('llm')) {
    llm = await measureLlm();
    results.llm = llm;
  }
  let two: TwoResult | undefined;
  if (has('two')) {
    two = await measureTwo();
    results.two = two;
  }

  const pgHead = headlineRatios(pg);
  const liteHead = headlineRatios(pglite);
  const headline: Headline = {
    throughputRatio: pgHead.throughputRatio,
    p99Ratio: pgHead.p99Ratio,
    idleRssMiBPer1000: idle?.idleRssMiBPer1000 ?? null,
    llmCallsPerInboundMessage: llm?.llmCallsPerInboundMessage ?? null,
    twoInstanceSpeedup: two?.twoInstanceSpeedup ?? null,
  };
  const output = {
    ...headline,
    pgliteThroughputRatio: liteHead.throughputRatio,
    pgliteP99Ratio: liteHead.p99Ratio,
    cpuPerMessageRatio: pgHead.cpuRatio ?? null,
    pgliteCpuPerMessageRatio: liteHead.cpuRatio ?? null,
    headlineConnections: pgHead.connections ?? liteHead.connections,
    headlineSource: pgHead.source ?? liteHead.source,
    machine: pgMachine,
    settings: { ...S, quick: Q, phases: [...flags.only] },
    seconds: Math.round((Date.now() - started) / 1000),
    ...results,
  };
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  const file = join(import.meta.dirname, 'results', 'latest.json');
  writeFileSync(file, `${JSON.stringify(output, null, 2)}\n`);

  const f = (v: number | null | undefined) => (v === null || v === undefined ? 'not run' : String(v));
  const out: string[] = [];
  out.push(`## kefu bench — ${pgMachine.date.slice(0, 10)}, ${pgMachine.cpus} CPUs, ${pgMachine.memoryGiB} GiB, Node ${pgMachine.node}, PostgreSQL ${pgMachine.postgres ?? '?'}${pgMachine.postgresSettings?.autovacuum === 'off' ? ' (autovacuum off)' : ''}, commit ${pgMachine.commit ?? '?'}${Q ? ' (quick)' : ''}\n`);
  out.push('| figure | value | target |');
  out.push('|---|---|---|');
  out.push(`| end-to-end throughput × bare INSERT (PostgreSQL, ${pgHead.connections ?? '-'} connections) | ${f(headline.throughputRatio)} | ≥ 0.5 |`);
  out.push(`| intake p99 × bare p99 (PostgreSQL) | ${f(headline.p99Ratio)} | ≤ 3 |`);
  out.push(`| end-to-end throughput × bare INSERT (PGlite) | ${f(liteHead.throughputRatio)} | ≥ 0.5 |`);
  out.push(`| intake p99 × bare p99 (PGlite) | ${f(liteHead.p99Ratio)} | ≤ 3 |`);
  out.push(
    `| CPU per message × bare, server + database (PostgreSQL / PGlite) | ${f(pgHead.cpuRatio)} / ${f(liteHead.cpuRatio)} | - (explains the throughput: 0.5× needs about 2 on a machine the load fills) |`,
  );
  out.push(`| idle live connections: RSS MiB per 1000 (${idle?.connections ?? '-'} open) | ${f(headline.idleRssMiBPer1000)} | < 100 (10,000 in < 1 GiB) |`);
  out.push(`| LLM calls per inbound message (scripted corpus, model answers after ${S.llmDelayMs} ms) | ${f(headline.llmCallsPerInboundMessage)} | ≤ 0.6 |`);
  out.push(
    `| refund reply p50 / p99 ms without → with LLM | ${llm ? `${llm.refundReplyWithoutLlm.p50} / ${llm.refundReplyWithoutLlm.p99} → ${llm.refundReplyWithLlm.p50} / ${llm.refundReplyWithLlm.p99} (${llm.refundLlmCalls} LLM calls for ${llm.refundMessages} refund messages)` : 'not run'} | no wait on the LLM |`,
  );
  out.push(`| two instances × one instance, msg/s (${two?.connections ?? '-'} people) | ${f(headline.twoInstanceSpeedup)} | ≥ 1.6 |`);
  out.push(
    `| every message answered exactly once (two instances) | ${two ? `${two.exactlyOnce.ok ? 'yes' : 'NO'}: ${two.exactlyOnce.turns} turns, ${two.exactlyOnce.unanswered} unanswered, ${two.exactlyOnce.answeredTwice} answered twice, ${two.exactlyOnce.outboxRowsNotSent} undelivered` : 'not run'} | yes |`,
  );
  out.push(`| live event crosses instances (agent on B → consumer on A) | ${two ? `${two.crossInstance.crossed ? 'yes' : 'NO'}${two.crossInstance.ms !== null ? `, ${two.crossInstance.ms} ms` : ''} (${two.crossInstance.detail})` : 'not run'} | yes |`);
  if (pg) out.push(backendTables('PostgreSQL', pg));
  if (pglite) out.push(backendTables('PGlite (in the server process)', pglite));
  if (idle) {
    out.push(
      `\nIdle: ${idle.connections} live streams (${idle.sessions} sessions) opened in ${idle.openSeconds} s; kefu RSS ${idle.rssBeforeMiB} → ${idle.rssAfterMiB} MiB, heap +${idle.heapGrowthMiB} MiB; a message sent meanwhile was answered on its stream in ${idle.replyWhileConnectedMs ?? '-'} ms.`,
    );
  }
  if (llm) {
    out.push(
      `\nLLM: ${llm.conversations} scripted conversations, ${llm.inboundMessages} messages (${llm.typed} typed, ${llm.buttonPresses} button presses in the script; ${llm.offScript} buttons not offered as scripted): ${llm.calls.classify} classify + ${llm.calls.summarize} summary calls; ${llm.unanswered} unanswered.`,
    );
  }
  if (two) {
    const busy = (x: number | null) => (x === null ? '-' : `${Math.round(x * 100)} %`);
    out.push(
      `\nTwo instances: one ${two.one.e2eRate} msg/s (reply p99 ${two.one.reply.p99} ms; machine ${busy(two.machineBusy.one)} busy, all ${os.cpus().length} cores) → two ${two.two.e2eRate} msg/s (reply p99 ${two.two.reply.p99} ms; machine ${busy(two.machineBusy.two)} busy).`,
    );
  }
  const reused = (pg?.customersReused ?? 0) + (pglite?.customersReused ?? 0);
  if (reused > 0) {
    out.push(
      `\nNote: the bench customers ran out ${reused} time(s) and were reused; raise BENCH_CUSTOMERS. A reused customer's chat is in an earlier conversation's state, so "unanswered" and the reply times mean little.`,
    );
  }
  out.push(`\nWritten to bench/results/latest.json (${Math.round((Date.now() - started) / 1000)} s).`);
  process.stdout.write(`${out.join('\n')}\n`);
  for (const k of HEADLINE_KEYS) if (!(k in output)) throw new Error(`latest.json lacks ${k}`);
}

async function shutdown(code: number): Promise<never> {
  for (const child of children) child.kill('SIGTERM');
  await sleep(200);
  process.exit(code);
}
process.once('SIGINT', () => void shutdown(130));

main().then(
  () => shutdown(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    return shutdown(1);
  },
);
