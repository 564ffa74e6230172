// The benchmark's HTTP client: keep-alive JSON requests and a web chat live stream (SSE) reader.
// One client for the bare endpoint and for kefu, so both are measured the same way.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 });

export interface JsonResponse {
  status: number;
  body: unknown;
  /** Milliseconds from sending to the whole response read. */
  ms: number;
}

/**
 * One JSON request over a kept-alive connection. Rejects only on a transport error. A connection
 * the server closed while idle (ECONNRESET on reuse) is retried once: message POSTs carry a client
 * message id, so a retry can never store a message twice.
 */
export async function request(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
  try {
    return await requestOnce(method, url, body, headers);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err;
    return requestOnce(method, url, body, headers);
  }
}

function requestOnce(method: string, url: string, body: unknown, headers: Record<string, string>): Promise<JsonResponse> {
  const started = performance.now();
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? null : JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, ms: performance.now() - started });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export interface ChatMessage {
  id: string;
  author: string;
  text: string;
  quickReplies?: { id: string; label: string }[];
  createdAt: string;
}

/**
 * A web chat live stream (GET /api/webchat/events). Every `message` event is kept in order with
 * the time it arrived; `waitFor` resolves with the first message matching a predicate.
 */
export class LiveStream {
  readonly messages: { message: ChatMessage; at: number }[] = [];
  private waiters: { test: (m: ChatMessage) => boolean; resolve: (m: { message: ChatMessage; at: number } | null) => void; timer: NodeJS.Timeout }[] = [];
  private req: http.ClientRequest | null = null;
  private closed = false;
  /** Resolves when the response headers arrived (status 200), rejects otherwise. */
  readonly opened: Promise<void>;

  constructor(base: string, token: string) {
    this.opened = new Promise((resolve, reject) => {
      // Its own socket (agent: false): a live stream holds its connection for its whole life.
      const req = http.get(`${base}/api/webchat/events?token=${encodeURIComponent(token)}`, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`live stream answered ${res.statusCode}`));
          return;
        }
        resolve();
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            this.onEvent(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
          }
        });
        res.on('error', () => {});
      });
      req.on('error', (err) => {
        if (!this.closed) reject(err);
      });
      this.req = req;
    });
  }

  private onEvent(raw: string): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of raw.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (event !== 'message' || data.length === 0) return;
    const message = JSON.parse(data.join('\n')) as ChatMessage;
    const entry = { message, at: performance.now() };
    this.messages.push(entry);
    for (const w of [...this.waiters]) {
      if (w.test(message)) {
        clearTimeout(w.timer);
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(entry);
      }
    }
  }

  /** The first message (already here or arriving within `timeoutMs`) that passes `test`; null on timeout. */
  waitFor(test: (m: ChatMessage) => boolean, timeoutMs: number): Promise<{ message: ChatMessage; at: number } | null> {
    const found = this.messages.find((e) => test(e.message));
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const waiter = {
        test,
        resolve,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          resolve(null);
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(null);
    }
    this.waiters = [];
    this.req?.destroy();
  }
}
