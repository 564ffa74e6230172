import { http, HttpResponse, delay } from 'msw';
import { setupServer } from 'msw/node';

/** One Bot API call the service made. */
export interface BotApiCall {
  method: string;
  body: Record<string, any>;
}

/** A reply the test wants for a call instead of the default success (return undefined to pass). */
export type Override = (call: BotApiCall) => Response | Promise<Response> | undefined;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * A fake Telegram Bot API at https://api.telegram.org (msw, HTTP layer): records every call and
 * answers like Telegram does. Unhandled third-party requests fail the test; loopback passes.
 */
export function fakeBotApi() {
  const calls: BotApiCall[] = [];
  const overrides: Override[] = [];
  const updates: unknown[][] = [];
  let nextMessageId = 1000;
  const server = setupServer(
    http.post(/^https:\/\/api\.telegram\.org\/bot[^/]+\/\w+$/, async ({ request }) => {
      const method = new URL(request.url).pathname.split('/').pop() ?? '';
      const text = await request.text();
      const call: BotApiCall = { method, body: text ? JSON.parse(text) : {} };
      calls.push(call);
      for (const override of overrides) {
        const response = await override(call);
        if (response) return response;
      }
      switch (method) {
        case 'sendMessage':
          nextMessageId += 1;
          return HttpResponse.json({
            ok: true,
            result: { message_id: nextMessageId, date: 1763802000, chat: { id: Number(call.body.chat_id), type: 'private' }, text: call.body.text },
          });
        case 'getUpdates': {
          const batch = updates.shift();
          // Long polling: an empty poll takes a while, like Telegram's timeout.
          if (!batch) await delay(50);
          return HttpResponse.json({ ok: true, result: batch ?? [] });
        }
        default:
          return HttpResponse.json({ ok: true, result: true });
      }
    }),
  );
  return {
    server,
    calls,
    listen() {
      server.listen({
        onUnhandledRequest(request, print) {
          if (LOOPBACK.has(new URL(request.url).hostname)) return;
          print.error();
        },
      });
    },
    close: () => server.close(),
    /** Answers calls the override matches with its response, until cleared. */
    override(fn: Override) {
      overrides.push(fn);
    },
    reset() {
      calls.length = 0;
      overrides.length = 0;
      updates.length = 0;
    },
    /** Queues a batch for the next getUpdates. */
    queueUpdates(batch: unknown[]) {
      updates.push(batch);
    },
    sentTo(chatId: number): BotApiCall[] {
      return calls.filter((c) => c.method === 'sendMessage' && Number(c.body.chat_id) === chatId);
    },
  };
}

/** Telegram's error body, as the Bot API sends it. */
export function botApiError(code: number, description: string, parameters?: Record<string, unknown>): Response {
  return HttpResponse.json({ ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) }, { status: code });
}
