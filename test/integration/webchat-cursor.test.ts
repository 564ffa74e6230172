import { desc } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversations } from '../../src/db/schema.js';
import { writeReplies } from '../../src/inbox/write-replies.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';

interface PublicMessage {
  id: string;
  author: string;
  text: string;
}

describe.each(backends())('web chat history cursor on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;

  beforeAll(async () => {
    // Not started: what goes through the outbox stays there until the test delivers it.
    service = await testService(backend, { seed: false });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('never skips a reply that is delivered after later messages were read', async () => {
    const token = (await call(service, 'POST', '/api/webchat/sessions', { body: { locale: 'zh-Hans' } })).body.token as string;
    const seen = new Map<string, PublicMessage>();
    let cursor = '0';
    const poll = async () => {
      const page = await call(service, 'GET', `/api/webchat/messages?after=${cursor}`, { token });
      expect(page.status).toBe(200);
      for (const m of page.body.messages as PublicMessage[]) seen.set(m.id, m);
      cursor = page.body.cursor;
      return page.body.messages as PublicMessage[];
    };
    // The chat opened with the greeting; read it first.
    await service.processor.idle();
    await service.outbox.drain();
    expect((await poll()).map((m) => m.author)).toEqual(['bot']);
    seen.clear();

    // A reply that goes through the outbox (as agents' replies do) waits there, undelivered.
    const [conversation] = await service.database.db.select().from(conversations).orderBy(desc(conversations.createdAt)).limit(1);
    await writeReplies(service.database.db, conversation!, [{ author: 'agent', text: '您好，我是客服小李' }], new Date());

    // She writes meanwhile; the bot's answer is delivered when its turn commits, newer than that reply.
    await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: 'one', text: '你好' } });
    await service.processor.idle();
    expect((await poll()).map((m) => m.author)).toEqual(['customer', 'bot']);

    await service.outbox.drain();
    await poll();
    expect([...seen.values()].map((m) => m.author)).toEqual(['customer', 'bot', 'agent']);

    // Once everything is delivered the cursor is at the end again.
    expect(await poll()).toEqual([]);
  });
});

describe.each(backends())('web chat live stream on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;

  beforeAll(async () => {
    service = await testService(backend, { seed: false, start: true });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('streams each reply as soon as it is delivered, without waiting for another event', async () => {
    const token = (await call(service, 'POST', '/api/webchat/sessions', { body: { locale: 'en' } })).body.token as string;
    const abort = new AbortController();
    const res = await service.app.request(`/api/webchat/events?token=${token}`, { signal: abort.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const received: PublicMessage[] = [];
    let buffer = '';
    const next = async (predicate: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!predicate()) {
        const left = deadline - Date.now();
        if (left <= 0) return false;
        const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), left))]);
        if (chunk === null || chunk.done) return predicate();
        buffer += chunk.value;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const data = buffer
            .slice(0, end)
            .split('\n')
            .find((l) => l.startsWith('data: '));
          buffer = buffer.slice(end + 2);
          if (data) received.push(JSON.parse(data.slice(6)) as PublicMessage);
        }
      }
      return true;
    };
    try {
      // The greeting the chat opened with comes first.
      expect(await next(() => received.some((m) => m.author === 'bot'), 5000)).toBe(true);
      for (let i = 1; i <= 3; i += 1) {
        const sent = await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: `live-${i}`, text: `hello ${i}` } });
        expect(sent.status).toBe(202);
        // Well under the stream's 25 s keep-alive: the reply must wake the stream by itself.
        // A message may get more than one answer (a handoff notice): wait for this message and an answer after it.
        const answered = () => {
          const at = received.findIndex((m) => m.author === 'customer' && m.text === `hello ${i}`);
          return at >= 0 && received.slice(at + 1).some((m) => m.author !== 'customer');
        };
        expect(await next(answered, 5000)).toBe(true);
      }
      expect(received.filter((m) => m.author === 'customer').map((m) => m.text)).toEqual(['hello 1', 'hello 2', 'hello 3']);
      expect(new Set(received.map((m) => m.id)).size).toBe(received.length);
    } finally {
      abort.abort();
      await reader.cancel().catch(() => {});
    }
  });
});
