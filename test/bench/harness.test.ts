import { describe, expect, it } from 'vitest';
import { HEADLINE_KEYS, parseFlags, parseProcStat, percentile, ratio, summarize } from '../../bench/stats.js';

// The benchmark's pure helpers only: nothing here runs a load or asserts a time.
describe('bench harness helpers', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 99)).toBe(0);
  });

  it('summarizes unsorted milliseconds', () => {
    expect(summarize([30, 10, 20, 40])).toEqual({ n: 4, p50: 20, p95: 40, p99: 40, max: 40, mean: 25 });
    expect(summarize([]).n).toBe(0);
  });

  it('gives no ratio against a missing or zero baseline', () => {
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(undefined, 4)).toBeNull();
  });

  it('reads --quick and --only, and refuses a phase it does not know', () => {
    const phases = ['baseline', 'intake', 'idle'];
    expect(parseFlags(['--quick', '--only=idle,baseline'], phases)).toMatchObject({ quick: true, only: new Set(['idle', 'baseline']) });
    expect(parseFlags([], phases).only).toEqual(new Set(phases));
    expect(() => parseFlags(['--only=speed'], phases)).toThrow(/unknown phase speed/);
    expect(() => parseFlags(['--fast'], phases)).toThrow(/unknown flag/);
  });

  it("reads a process's name and CPU ticks from /proc/<pid>/stat, parentheses in the name included", () => {
    const line = (name: string) => `4242 (${name}) S 1 4242 4242 0 -1 4194560 812 0 0 0 1234 56 0 0 20 0 11 0 3456 1096847360 35843 18446744073709551615`;
    expect(parseProcStat(line('postgres'))).toEqual({ name: 'postgres', ticks: 1290 });
    expect(parseProcStat(line('node (worker) x'))).toEqual({ name: 'node (worker) x', ticks: 1290 });
    expect(parseProcStat('garbage')).toBeNull();
  });

  it('names the five headline figures the results file carries', () => {
    expect(HEADLINE_KEYS).toEqual(['throughputRatio', 'p99Ratio', 'idleRssMiBPer1000', 'llmCallsPerInboundMessage', 'twoInstanceSpeedup']);
  });
});
