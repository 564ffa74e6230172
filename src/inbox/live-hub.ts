import { type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../db/client.js';

/** A change agents or consumers should see live: a conversation got a new or updated message. */
export const LiveEvent = z.object({
  type: z.enum(['message', 'conversation']),
  conversationId: z.string(),
  channelIdentityId: z.string().optional(),
});
export type LiveEvent = z.infer<typeof LiveEvent>;

/** One NOTIFY carries a batch of events (a single event stays a bare object). */
const Payload = z.union([LiveEvent, z.array(LiveEvent)]);

type Listener = (event: LiveEvent) => void;

/** The NOTIFY channel live events travel on. */
export const LIVE_CHANNEL = 'kefu_events';
const CHANNEL = LIVE_CHANNEL;

/** The NOTIFY payload for events; undefined when too large for one NOTIFY (publish() them instead). */
export function liveEventPayload(events: LiveEvent | LiveEvent[]): string | undefined {
  const payload = JSON.stringify(events);
  return payload.length > MAX_PAYLOAD_BYTES ? undefined : payload;
}

/**
 * The NOTIFY for events as an SQL expression, to put in the statement that commits the change they
 * announce: listeners hear of it when that commits, and it costs no round trip of its own.
 */
export function liveEventSql(events: LiveEvent): SQL<unknown>;
export function liveEventSql(events: LiveEvent[]): SQL<unknown> | undefined;
export function liveEventSql(events: LiveEvent | LiveEvent[]): SQL<unknown> | undefined {
  // A batch too large for one NOTIFY goes through publish() instead.
  const payload = liveEventPayload(events);
  return payload === undefined ? undefined : sql`pg_notify(${CHANNEL}, ${payload})`;
}

/** NOTIFY payloads must stay under 8000 bytes; batches are split well below that. */
const MAX_PAYLOAD_BYTES = 6000;

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Fans live events out to every instance through Postgres LISTEN/NOTIFY (in process on PGlite).
 * Payloads carry ids only; subscribers read the rows themselves, so nothing is lost to the 8 kB limit.
 * Each NOTIFY is a database round trip, so events published while one is in flight are coalesced
 * (identical events once) into the next: under load that is one NOTIFY for many messages.
 */
export class LiveHub {
  private readonly listeners = new Set<Listener>();
  private stop: (() => Promise<void>) | null = null;
  private queued = new Map<string, LiveEvent>();
  private waiters: Waiter[] = [];
  private flushing: Promise<void> | null = null;

  constructor(private readonly database: Database) {}

  async start(): Promise<void> {
    this.stop = await this.database.listen(CHANNEL, (payload) => {
      let parsed: z.infer<typeof Payload>;
      try {
        const result = Payload.safeParse(JSON.parse(payload));
        if (!result.success) return;
        parsed = result.data;
      } catch {
        return;
      }
      for (const event of Array.isArray(parsed) ? parsed : [parsed]) {
        for (const fn of this.listeners) fn(event);
      }
    });
  }

  async close(): Promise<void> {
    await this.flushing;
    await this.stop?.();
    this.stop = null;
    this.listeners.clear();
  }

  /** Resolves once the event was sent to every instance (in a batch with others published meanwhile). */
  publish(event: LiveEvent): Promise<void> {
    this.queued.set(`${event.type}|${event.conversationId}|${event.channelIdentityId ?? ''}`, event);
    const sent = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    // Wait one turn of the event loop so events of requests finishing together share a NOTIFY.
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
    return sent;
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private async flush(): Promise<void> {
    while (this.queued.size > 0) {
      const events = [...this.queued.values()];
      const waiters = this.waiters;
      this.queued = new Map();
      this.waiters = [];
      try {
        for (const payload of payloads(events)) await this.database.notify(CHANNEL, payload);
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    this.flushing = null;
  }
}

/** JSON payloads for a batch, each under the NOTIFY size limit. */
function payloads(events: LiveEvent[]): string[] {
  const out: string[] = [];
  let batch: string[] = [];
  let bytes = 2;
  for (const event of events) {
    const json = JSON.stringify(event);
    if (batch.length > 0 && bytes + json.length + 1 > MAX_PAYLOAD_BYTES) {
      out.push(batch.length === 1 ? (batch[0] ?? '') : `[${batch.join(',')}]`);
      batch = [];
      bytes = 2;
    }
    batch.push(json);
    bytes += json.length + 1;
  }
  if (batch.length > 0) out.push(batch.length === 1 ? (batch[0] ?? '') : `[${batch.join(',')}]`);
  return out;
}
