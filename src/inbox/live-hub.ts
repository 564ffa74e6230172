import type { Database } from '../db/client.js';

/** A change agents or consumers should see live: a conversation got a new or updated message. */
export interface LiveEvent {
  type: 'message' | 'conversation';
  conversationId: string;
  channelIdentityId?: string;
}

type Listener = (event: LiveEvent) => void;

const CHANNEL = 'kefu_events';

/**
 * Fans live events out to every instance through Postgres LISTEN/NOTIFY (in process on PGlite).
 * Payloads carry ids only; subscribers read the rows themselves, so nothing is lost to the 8 kB limit.
 */
export class LiveHub {
  private readonly listeners = new Set<Listener>();
  private stop: (() => Promise<void>) | null = null;

  constructor(private readonly database: Database) {}

  async start(): Promise<void> {
    this.stop = await this.database.listen(CHANNEL, (payload) => {
      let event: LiveEvent;
      try {
        event = JSON.parse(payload) as LiveEvent;
      } catch {
        return;
      }
      for (const fn of this.listeners) fn(event);
    });
  }

  async close(): Promise<void> {
    await this.stop?.();
    this.stop = null;
    this.listeners.clear();
  }

  async publish(event: LiveEvent): Promise<void> {
    await this.database.notify(CHANNEL, JSON.stringify(event));
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
