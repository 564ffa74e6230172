import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROMPTS_DIR } from './index.js';
import { checkPromptVariables, loadPrompt, renderPrompt } from './prompts.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function copyOfPrompts(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kefu-prompts-'));
  dirs.push(dir);
  cpSync(PROMPTS_DIR, dir, { recursive: true });
  return dir;
}

describe('prompt files', () => {
  it('the shipped prompts declare exactly the variables kefu supplies', () => {
    expect(checkPromptVariables(PROMPTS_DIR)).toEqual([]);
  });

  it('reports an undeclared placeholder, an unused declaration and a missing file', () => {
    const dir = copyOfPrompts();
    const path = join(dir, 'classify.md');
    writeFileSync(path, readFileSync(path, 'utf8').replace('{{step}}', '{{flow_step}}'));
    rmSync(join(dir, 'summarize.md'));
    expect(checkPromptVariables(dir)).toEqual([
      'prompts/classify.md: {{flow_step}} is used but not declared in the front matter',
      'prompts/classify.md: variable "step" is declared but never used',
      'prompts/summarize.md: missing',
    ]);
  });

  it('reports broken front matter and missing sections', () => {
    const dir = copyOfPrompts();
    writeFileSync(join(dir, 'classify.md'), '---\nvariables: [1, 2\n---\n## system\nhi\n');
    writeFileSync(join(dir, 'summarize.md'), readFileSync(join(PROMPTS_DIR, 'summarize.md'), 'utf8').replace('## user', '## usr'));
    const problems = checkPromptVariables(dir);
    expect(problems[0]).toMatch(/^prompts\/classify\.md: front matter is not YAML/);
    expect(problems).toContain('prompts/summarize.md: no "## user" section');
  });

  it('renders in one pass: a value containing {{placeholders}} is not expanded', () => {
    const prompt = loadPrompt(PROMPTS_DIR, 'classify');
    const { user } = renderPrompt(prompt, {
      intents: 'a',
      complaint_categories: 'b',
      step: 'null',
      recent_turns: '[]',
      intent_guide: '- a',
      hints: '[]',
      message: '"{{intents}} please"',
    });
    expect(user).toContain('<consumer_message>"{{intents}} please"</consumer_message>');
  });

  it('refuses to render with a variable missing', () => {
    const prompt = loadPrompt(PROMPTS_DIR, 'classify');
    expect(() => renderPrompt(prompt, { intents: 'a' })).toThrow(/missing variables complaint_categories, step, recent_turns, intent_guide, hints, message/);
  });
});
