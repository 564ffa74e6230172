import { describe, expect, it } from 'vitest';
import type { Database } from '../db/client.js';
import { type LiveEvent, LiveHub } from './live-hub.js';

/** A database whose NOTIFY is in process (like PGlite) and counted: each one is a round trip on PostgreSQL. */
function countingDatabase() {
  const listeners = new Set<(payload: string) => void>();
  const payloads: string[] = [];
  const database: Database = {
    kind: 'postgres',
    db: {} as Database['db'],
    async notify(_channel, payload) {
      payloads.push(payload);
      await new Promise((resolve) => setTimeout(resolve, 5)); // the round trip
      for (const fn of listeners) fn(payload);
    },
    async listen(_channel, onPayload) {
      listeners.add(onPayload);
      return async () => void listeners.delete(onPayload);
    },
    async close() {},
  };
  return { database, payloads };
}

describe('live hub', () => {
  it('delivers events published together to every subscriber in one NOTIFY, each identical event once', async () => {
    const { database, payloads } = countingDatabase();
    const hub = new LiveHub(database);
    await hub.start();
    const seen: LiveEvent[] = [];
    hub.subscribe((event) => seen.push(event));

    await Promise.all([
      hub.publish({ type: 'message', conversationId: 'c1', channelIdentityId: 'i1' }),
      hub.publish({ type: 'conversation', conversationId: 'c1' }),
      hub.publish({ type: 'message', conversationId: 'c2', channelIdentityId: 'i2' }),
      hub.publish({ type: 'message', conversationId: 'c1', channelIdentityId: 'i1' }),
    ]);

    expect(payloads).toHaveLength(1);
    expect(seen).toEqual([
      { type: 'message', conversationId: 'c1', channelIdentityId: 'i1' },
      { type: 'conversation', conversationId: 'c1' },
      { type: 'message', conversationId: 'c2', channelIdentityId: 'i2' },
    ]);
    await hub.close();
  });

  it('sends what is published during a NOTIFY in the next one, and resolves each publish once sent', async () => {
    const { database, payloads } = countingDatabase();
    const hub = new LiveHub(database);
    await hub.start();
    const seen: string[] = [];
    hub.subscribe((event) => seen.push(event.conversationId));

    const first = hub.publish({ type: 'conversation', conversationId: 'a' });
    await new Promise((resolve) => setTimeout(resolve, 1)); // the first NOTIFY is in flight
    const second = hub.publish({ type: 'conversation', conversationId: 'b' });
    const third = hub.publish({ type: 'conversation', conversationId: 'c' });
    await first;
    expect(seen).toEqual(['a']);
    await Promise.all([second, third]);
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(payloads).toHaveLength(2);
    await hub.close();
  });

  it('keeps every NOTIFY payload under the PostgreSQL limit of 8000 bytes', async () => {
    const { database, payloads } = countingDatabase();
    const hub = new LiveHub(database);
    await hub.start();
    const seen = new Set<string>();
    hub.subscribe((event) => seen.add(event.conversationId));

    const ids = Array.from({ length: 500 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    await Promise.all(ids.map((conversationId) => hub.publish({ type: 'message', conversationId, channelIdentityId: conversationId })));

    expect(seen.size).toBe(500);
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThan(8000);
    await hub.close();
  });

  it('ignores payloads that are not live events', async () => {
    const { database } = countingDatabase();
    const hub = new LiveHub(database);
    await hub.start();
    const seen: LiveEvent[] = [];
    hub.subscribe((event) => seen.push(event));
    await database.notify('kefu_events', 'not json');
    await database.notify('kefu_events', JSON.stringify({ type: 'other', conversationId: 'x' }));
    await hub.publish({ type: 'conversation', conversationId: 'ok' });
    expect(seen).toEqual([{ type: 'conversation', conversationId: 'ok' }]);
    await hub.close();
  });
});
