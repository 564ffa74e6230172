import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/**
 * The address a request came from. Without a trusted proxy it is the socket's peer; with
 * `TRUST_PROXY` naming the header the proxy sets (`x-forwarded-for`, `x-real-ip`,
 * `cf-connecting-ip`, …) it is that header's value — for X-Forwarded-For the last entry, the one
 * our proxy appended, since earlier entries are whatever the client chose to send.
 */
export function clientAddress(c: Context, trustProxy: string | null | undefined): string {
  if (trustProxy) {
    const value = c.req.header(trustProxy);
    const last = value?.split(',').pop()?.trim();
    if (last) return last.slice(0, 100);
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // app.request() in tests has no socket.
    return 'local';
  }
}
