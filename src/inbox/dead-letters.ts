import type { Db } from '../db/client.js';
import { deadLetters } from '../db/schema.js';

/** Largest payload kept; the rest of a bigger one is cut (operators need the start to see what it was). */
const MAX_PAYLOAD_BYTES = 12 * 1024 * 1024;

/** Keeps an input a channel could never store, for operators to look at; returns its row id. */
export async function recordDeadLetter(db: Db, input: { channel: string; reason: string; payload: Uint8Array | string }): Promise<number> {
  const bytes = typeof input.payload === 'string' ? Buffer.from(input.payload, 'utf8') : Buffer.from(input.payload);
  const [row] = await db
    .insert(deadLetters)
    .values({
      channel: input.channel,
      reason: input.reason.slice(0, 500),
      payload: bytes.subarray(0, MAX_PAYLOAD_BYTES),
      payloadBytes: bytes.length,
    })
    .returning({ id: deadLetters.id });
  if (!row) throw new Error('dead letter insert returned no row');
  return row.id;
}
