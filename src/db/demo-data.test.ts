import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_DIR, loadDemoData } from './demo-data.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the shipped demo data with one file's text edited. */
function editedCopy(file: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kefu-demo-'));
  dirs.push(dir);
  cpSync(DEMO_DIR, dir, { recursive: true });
  writeFileSync(join(dir, file), edit(readFileSync(join(dir, file), 'utf8')));
  return dir;
}

function problemsOf(load: () => unknown): string {
  try {
    load();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error('expected the demo data to be rejected');
}

describe('demo data files', () => {
  it('loads the shipped merchants, deals, customers and stories', () => {
    const data = loadDemoData(DEMO_DIR, { customerKeys: ['senior', 'emily'], accountEmails: ['manager@kefu.demo'] });
    expect(data.merchants).toHaveLength(12);
    expect(data.merchants.flatMap((m) => m.deals)).toHaveLength(41);
    expect(data.customers).toHaveLength(20);
    expect(data.customers.filter((c) => c.story).map((c) => c.name)).toEqual(['王秀兰', 'Emily Chen', '张伟', '李娜', '朱红梅']);
    expect(data.orders.target).toBe(300);
  });

  it('names the file and place of a typo, a bad value and a dangling reference', () => {
    const dir = editedCopy('customers.yaml', (text) =>
      text.replace('deal: banquet', 'deal: banquett').replace('birthYear: 1958', 'birthyear: 1958'),
    );
    const message = problemsOf(() => loadDemoData(dir));
    expect(message).toContain('customers.yaml 0');
    expect(message).toContain('birthyear');

    const fixed = editedCopy('customers.yaml', (text) => text.replace('deal: banquet', 'deal: banquett'));
    expect(problemsOf(() => loadDemoData(fixed))).toContain('customers.yaml 3.story.orders.0.deal: no deal with key "banquett"');

    const hours = editedCopy('merchants.yaml', (text) => text.replace('hours: { from: "11:00", to: "21:30" }', 'hours: { from: "11:00", to: "25:00" }'));
    expect(problemsOf(() => loadDemoData(hours))).toMatch(/merchants\.yaml 0\.deals\.0\.hours\.to: a time of day/);
  });

  it('requires the customers and accounts the code names', () => {
    const dir = editedCopy('customers.yaml', (text) => text.replace('key: emily', 'key: emilie'));
    const message = problemsOf(() => loadDemoData(dir, { customerKeys: ['senior', 'emily'], accountEmails: ['admin@kefu.demo'] }));
    expect(message).toContain('no customer with key "emily"');
    expect(message).toContain('decidedBy: no demo account manager@kefu.demo');
  });
});
