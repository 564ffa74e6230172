import { z } from 'zod';
import type { Logger } from '../logger.js';

/** How a call to the platform's order API ended; expected outcomes, not exceptions. */
export type OrderApiResult<T> =
  | { kind: 'ok'; data: T }
  | { kind: 'not_found' }
  /** The platform answered and said no (4xx other than 404). */
  | { kind: 'rejected'; status: number; message: string }
  /** We could not reach it: network error, 5xx, or no answer within the timeout. */
  | { kind: 'unreachable'; message: string }
  /** It answered 2xx with something that is not the documented JSON. */
  | { kind: 'invalid_response'; message: string };

export interface OrderApiOptions {
  /** Base URL, e.g. `https://orders.example.com/kefu/v1`. */
  baseUrl: string;
  token: string;
  timeoutMs: number;
  logger: Logger;
}

/** A small JSON client for docs/order-api.md: bearer auth, timeout, zod-validated answers. */
export class OrderApiClient {
  private readonly base: string;
  constructor(private readonly options: OrderApiOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
  }

  async request<S extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    schema: S,
    init: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<OrderApiResult<z.infer<S>>> {
    const url = `${this.base}${path}`;
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${this.options.token}`, ...init.headers };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      // Looked up per call (not captured at construction) so test interceptors see it.
      res = await globalThis.fetch(url, {
        method,
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      const message = timedOut ? `no answer within ${this.options.timeoutMs} ms` : err instanceof Error ? err.message : String(err);
      this.options.logger.warn({ method, path, timedOut }, 'order_api.unreachable');
      return { kind: 'unreachable', message };
    }
    if (res.status === 404) return { kind: 'not_found' };
    if (res.status >= 500) {
      this.options.logger.warn({ method, path, status: res.status }, 'order_api.unreachable');
      return { kind: 'unreachable', message: `HTTP ${res.status}` };
    }
    if (res.status >= 400) {
      this.options.logger.warn({ method, path, status: res.status }, 'order_api.rejected');
      return { kind: 'rejected', status: res.status, message: errorMessage(text) ?? `HTTP ${res.status}` };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.options.logger.warn({ method, path, status: res.status }, 'order_api.invalid_response');
      return { kind: 'invalid_response', message: 'not JSON' };
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      this.options.logger.warn({ method, path, issues: parsed.error.issues.slice(0, 5) }, 'order_api.invalid_response');
      return { kind: 'invalid_response', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
    }
    return { kind: 'ok', data: parsed.data };
  }
}

const ErrorBody = z.object({ error: z.object({ message: z.string() }) });

/** `{error: {message}}` from a 4xx body, if it has one. */
function errorMessage(text: string): string | null {
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.error.message : null;
  } catch {
    return null;
  }
}
