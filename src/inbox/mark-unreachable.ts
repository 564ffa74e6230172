import { and, eq, inArray } from 'drizzle-orm';
import type { ChannelKind } from '../core/message.js';
import type { Db } from '../db/client.js';
import { channelIdentities } from '../db/schema.js';

/** Marks channel identities we can no longer reach (a hard bounce): the outbox stops sending to them. */
export async function markUnreachable(db: Db, channel: ChannelKind, externalIds: string[], reason: string): Promise<number> {
  if (externalIds.length === 0) return 0;
  const rows = await db
    .update(channelIdentities)
    .set({ unreachable: true, unreachableReason: reason.slice(0, 500) })
    .where(and(eq(channelIdentities.channel, channel), inArray(channelIdentities.externalId, externalIds)))
    .returning({ id: channelIdentities.id });
  return rows.length;
}
