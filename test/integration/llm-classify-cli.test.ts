import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completionBody, intentAnswer } from '../support/llm.js';

const ROOT = join(import.meta.dirname, '../..');

// An OpenAI-compatible server on loopback, as vLLM or Ollama would be: the child process cannot
// see msw, so it talks HTTP to this instead.
const received: { auth: string | undefined; body: any }[] = [];
const server = createServer(async (req: IncomingMessage, res) => {
  let raw = '';
  for await (const chunk of req) raw += String(chunk);
  const body = JSON.parse(raw);
  received.push({ auth: req.headers.authorization, body });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(completionBody(JSON.stringify(intentAnswer({ intent: 'refund', confidence: 0.88 })))));
});
let baseUrl = '';
beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => {
  server.close();
});

describe('kefu classify with an LLM configured', () => {
  it('reports source "rules" where the lexicon is sure and "llm" where the model answered', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/kefu.js'), 'classify'], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'silent', OPENAI_API_KEY: 'sk-local', OPENAI_BASE_URL: baseUrl, OPENAI_MODEL: 'qwen2.5:7b', DATABASE_URL: 'pglite://memory' },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stdin.end(`${JSON.stringify({ text: '转人工', id: 1 })}\n${JSON.stringify({ text: '那张券我不太想要了，电话13812345678', id: 2 })}\n`);
    const [code] = await once(child, 'close');
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({ id: 1, intent: 'human', source: 'rules' }),
      expect.objectContaining({ id: 2, intent: 'refund', confidence: 0.88, source: 'llm' }),
    ]);
    expect(received).toHaveLength(1);
    expect(received[0]?.auth).toBe('Bearer sk-local');
    expect(received[0]?.body.model).toBe('qwen2.5:7b');
    expect(JSON.stringify(received[0]?.body)).not.toContain('13812345678');
  });
});
