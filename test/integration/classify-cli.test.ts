import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

function startClassify(args: string[] = []): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [join(ROOT, 'bin/kefu.js'), 'classify', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent' },
  });
}

async function run(input: string, args: string[] = []): Promise<{ lines: unknown[]; stderr: string; code: number | null }> {
  const child = startClassify(args);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdin.end(input);
  const [code] = (await once(child, 'close')) as [number | null];
  const lines = stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
  return { lines, stderr, code };
}

describe('kefu classify', () => {
  it('answers every JSON line with intent, confidence and source, and an error line for a bad one', async () => {
    const input = [
      JSON.stringify({ text: '转人工' }),
      JSON.stringify({ text: 'I want a refund for order KF12345678', id: 'a1' }),
      'this is not json',
      JSON.stringify({ message: 'no text field' }),
      '',
      JSON.stringify({ text: '店家不讓用券，氣死了!!!', locale: 'zh-Hant' }),
      JSON.stringify({ text: '是的' }),
    ].join('\n');
    const { lines, stderr, code } = await run(`${input}\n`);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(lines).toHaveLength(7);
    expect(lines[0]).toMatchObject({ intent: 'human', source: 'rules', language: 'zh-Hans', sentiment: 'neutral' });
    expect(lines[1]).toMatchObject({ id: 'a1', intent: 'refund', source: 'rules', language: 'en', slots: { orderNumber: 'KF12345678' } });
    expect(lines[2]).toEqual({ error: expect.stringContaining('invalid JSON') });
    expect(lines[3]).toEqual({ error: expect.stringContaining('text') });
    expect(lines[4]).toEqual({ error: expect.stringContaining('empty line') });
    expect(lines[5]).toMatchObject({
      intent: 'complaint',
      sentiment: 'angry',
      language: 'zh-Hant',
      slots: { complaintCategory: 'coupon_refused' },
    });
    expect(lines[6]).toMatchObject({ intent: 'other', slots: { affirmation: 'yes' } });
    for (const line of [lines[0], lines[1], lines[5], lines[6]]) {
      const { confidence } = line as { confidence: number };
      expect(confidence).toBeGreaterThan(0);
      expect(confidence).toBeLessThanOrEqual(1);
    }
  });

  it('shows the source, the lexicon phrase and the distance for a typo or a wrong homophone', async () => {
    const { lines, code } = await run('{"text":"推款"}\n{"text":"I want a refnd"}\n');
    expect(code).toBe(0);
    expect(lines[0]).toMatchObject({ intent: 'refund', source: 'rules', match: { phrase: '退款', found: '推款', distance: 1, kind: 'pinyin' } });
    expect(lines[1]).toMatchObject({ intent: 'refund', source: 'rules', match: { phrase: 'refund*', found: 'refnd', distance: 1, kind: 'edit' } });
  });

  it('streams: answers a line before the input ends', async () => {
    const child = startClassify();
    const out = createInterface({ input: child.stdout });
    const answers = out[Symbol.asyncIterator]();
    child.stdin.write(`${JSON.stringify({ text: 'where is my order?' })}\n`);
    const first = await answers.next();
    expect(JSON.parse(String(first.value))).toMatchObject({ intent: 'order_help' });
    child.stdin.write(`${JSON.stringify({ text: 'KF 1234 5678' })}\n`);
    const second = await answers.next();
    expect(JSON.parse(String(second.value))).toMatchObject({ intent: 'other', slots: { orderNumber: 'KF12345678' } });
    child.stdin.end();
    const [code] = (await once(child, 'close')) as [number | null];
    expect(code).toBe(0);
  });

  it('refuses a broken lexicon with a message naming the entry, and exit code 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kefu-lexicon-'));
    const path = join(dir, 'intents.yaml');
    writeFileSync(path, 'version: 1\nintents:\n  refund:\n    - weight: 4\n      regex: ["(unclosed"]\naffirmation: { yes: {}, no: {} }\n');
    try {
      const { lines, stderr, code } = await run(`${JSON.stringify({ text: 'hi' })}\n`, ['--lexicon', path]);
      expect(code).toBe(1);
      expect(lines).toEqual([]);
      expect(stderr).toContain('intents.refund[0].regex[0]: not a valid regular expression');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
