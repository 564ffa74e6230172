// Pure helpers of the benchmark harness: latency summaries and the results file's shape.

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of ascending `sorted` (p in 0..100); 0 for no values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? 0;
}

/** n, p50/p95/p99, max and mean of milliseconds, rounded to 0.1 ms. */
export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 10) / 10;
  const mean = sorted.length === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return {
    n: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? 0),
    mean: round(mean),
  };
}

/** a / b rounded to 2 decimals; null when either is missing or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return Math.round((a / b) * 100) / 100;
}

/** The headline figures `bench/results/latest.json` always has (null: that part was not run). */
export const HEADLINE_KEYS = ['throughputRatio', 'p99Ratio', 'idleRssMiBPer1000', 'llmCallsPerInboundMessage', 'twoInstanceSpeedup'] as const;
export type Headline = Record<(typeof HEADLINE_KEYS)[number], number | null>;

/** Parses `--quick`, `--only=a,b` and `--idle=N` style flags. */
export function parseFlags(argv: readonly string[], phases: readonly string[]): { quick: boolean; only: Set<string>; idle: number | null; full10k: boolean } {
  let quick = false;
  let full10k = false;
  let idle: number | null = null;
  let only = new Set(phases);
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg === '--idle-10k') full10k = true;
    else if (arg.startsWith('--idle=')) idle = Number(arg.slice('--idle='.length));
    else if (arg.startsWith('--only=')) {
      const wanted = arg.slice('--only='.length).split(',').map((s) => s.trim()).filter((s) => s !== '');
      const unknown = wanted.filter((w) => !phases.includes(w));
      if (unknown.length > 0) throw new Error(`unknown phase ${unknown.join(', ')}; phases: ${phases.join(', ')}`);
      only = new Set(wanted);
    } else throw new Error(`unknown flag ${arg}; flags: --quick, --only=${phases.join('|')} (comma list), --idle=N, --idle-10k`);
  }
  if (idle !== null && (!Number.isInteger(idle) || idle <= 0)) throw new Error('--idle=N needs a positive whole number');
  return { quick, only, idle, full10k };
}

/**
 * A /proc/<pid>/stat line: the command name (in parentheses, and itself free to hold spaces and
 * parentheses) and the CPU time it used, user + system, in clock ticks (fields 14 and 15).
 */
export function parseProcStat(stat: string): { name: string; ticks: number } | null {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const fields = stat.slice(close + 2).split(' ');
  const user = Number(fields[11]);
  const system = Number(fields[12]);
  if (!Number.isFinite(user) || !Number.isFinite(system)) return null;
  return { name: stat.slice(open + 1, close), ticks: user + system };
}
