import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FLOWS_DIR, PROMPTS_DIR } from '../../src/paths.js';

const root = join(import.meta.dirname, '../..');
const temp = mkdtempSync(join(tmpdir(), 'kefu-flows-check-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function flowsCheck(...args: string[]) {
  return spawnSync(process.execPath, ['bin/kefu.js', 'flows', 'check', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
}

describe('kefu flows check', () => {
  it('passes on the shipped flows, lexicon and prompts', () => {
    const result = flowsCheck();
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/flows OK, intent lexicon OK, prompts OK/);
  });

  it('fails with a readable message when the intent lexicon or a prompt is broken', () => {
    const flows = join(temp, 'flows');
    const prompts = join(temp, 'prompts');
    cpSync(FLOWS_DIR, flows, { recursive: true });
    cpSync(PROMPTS_DIR, prompts, { recursive: true });
    writeFileSync(join(flows, 'intents.yaml'), 'version: 1\nintents:\n  refund:\n    regex: ["(unclosed"]\n');
    rmSync(join(prompts, 'classify.md'));
    const result = flowsCheck('--dir', flows, '--prompts', prompts);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/intents\.yaml/);
    expect(result.stderr).toMatch(/prompts\/classify\.md: missing/);
  });
});
