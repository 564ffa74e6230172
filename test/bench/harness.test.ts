import { describe, expect, it } from 'vitest';
import { HEADLINE_KEYS, parseFlags, percentile, ratio, summarize } from '../../bench/stats.js';

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

  it('names the five headline figures the results file carries', () => {
    expect(HEADLINE_KEYS).toEqual(['throughputRatio', 'p99Ratio', 'idleRssMiBPer1000', 'llmCallsPerInboundMessage', 'twoInstanceSpeedup']);
  });
});
