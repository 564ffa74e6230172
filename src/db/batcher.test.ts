import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.js';

describe('Batcher (group commit)', () => {
  it('sends calls made at the same moment as one batch and answers each caller with its own result', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number, number>(async (inputs) => {
      batches.push(inputs);
      return inputs.map((n) => n * 10);
    });
    const results = await Promise.all([1, 2, 3].map((n) => batcher.call(n)));
    expect(results).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('collects calls made while a batch runs into the next one, never more than the limit', async () => {
    const batches: number[][] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const batcher = new Batcher<number, number>(async (inputs) => {
      batches.push(inputs);
      if (batches.length === 1) await gate;
      return inputs;
    }, 2);
    const first = batcher.call(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [2, 3, 4].map((n) => batcher.call(n));
    release();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3, 4]);
    expect(batches).toEqual([[1], [2, 3], [4]]);
  });

  it('rejects every call of a failed batch, and the next batch runs', async () => {
    let fail = true;
    const batcher = new Batcher<string, string>(async (inputs) => {
      if (fail) {
        fail = false;
        throw new Error('statement failed');
      }
      return inputs.map((s) => s.toUpperCase());
    });
    const failed = await Promise.allSettled([batcher.call('a'), batcher.call('b')]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await batcher.call('c')).toBe('C');
  });
});
