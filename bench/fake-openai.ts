// A fake OpenAI-compatible server for the benchmark: answers POST …/chat/completions after a fixed
// delay (FAKE_OPENAI_DELAY_MS, default 300) with valid structured JSON for kefu's two schemas
// (`classification`, `handoff_summary`), and counts the calls (GET /__calls, POST /__calls/reset).
// The intent it answers is the one the scripted corpus expects for that text, as a good model would.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { CORPUS_PATH } from './corpus.js';

const DELAY_MS = Number(process.env.FAKE_OPENAI_DELAY_MS ?? 300);

interface CorpusMessage {
  text?: string;
  button?: string;
  expect?: string;
}
const corpus = parse(readFileSync(CORPUS_PATH, 'utf8')) as { conversations: { messages: CorpusMessage[] }[] };
const expected = new Map<string, string>();
for (const c of corpus.conversations) for (const m of c.messages) if (m.expect) expected.set((m.text ?? m.button ?? '').trim(), m.expect);

const calls: Record<string, number> = { classify: 0, summarize: 0, other: 0 };

function completion(content: string) {
  return {
    id: `chatcmpl-bench-${Date.now()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: 'gpt-4o-mini-bench',
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 400, completion_tokens: 40, total_tokens: 440 },
  };
}

function answer(body: { response_format?: { type?: string; json_schema?: { name?: string } }; messages?: { content?: string }[] }): unknown {
  const name = body.response_format?.json_schema?.name;
  const prompt = (body.messages ?? []).map((m) => m.content ?? '').join('\n');
  if (name === 'handoff_summary' || (name === undefined && /summar/i.test(prompt.slice(0, 400)))) {
    calls.summarize = (calls.summarize ?? 0) + 1;
    return { wants: '退款', done: '机器人已查询订单', open: '等待人工处理', note: null };
  }
  calls.classify = (calls.classify ?? 0) + 1;
  const text = /<consumer_message>([\s\S]*?)<\/consumer_message>/.exec(prompt)?.[1]?.trim() ?? '';
  const intent = expected.get(text) ?? 'other';
  return {
    intent,
    confidence: intent === 'other' ? 0.5 : 0.85,
    order_number: /KF\s*\d{8}/i.exec(text)?.[0]?.replace(/\s/g, '').toUpperCase() ?? null,
    coupon_code: null,
    complaint_category: null,
    affirmation: null,
    sentiment: 'neutral',
    language: null,
  };
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (req.method === 'GET' && req.url === '/__calls') return json(200, calls);
    if (req.method === 'POST' && req.url === '/__calls/reset') {
      for (const k of Object.keys(calls)) calls[k] = 0;
      return json(200, calls);
    }
    if (req.method === 'POST' && req.url?.endsWith('/chat/completions')) {
      let body: Parameters<typeof answer>[0];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return json(400, { error: { message: 'invalid JSON' } });
      }
      const content = JSON.stringify(answer(body));
      setTimeout(() => json(200, completion(content)), DELAY_MS);
      return;
    }
    calls.other = (calls.other ?? 0) + 1;
    json(404, { error: { message: `no route ${req.method} ${req.url}` } });
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port, pid: process.pid })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
