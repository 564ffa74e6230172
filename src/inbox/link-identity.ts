import { and, eq, ne } from 'drizzle-orm';
import type { ChannelKind } from '../core/message.js';
import type { Db, Tx } from '../db/client.js';
import { auditLog, channelIdentities, conversations, customers } from '../db/schema.js';

/** What linking by a verified phone number did. */
export type LinkResult =
  | { outcome: 'linked'; customerId: string; previousCustomerId: string }
  | { outcome: 'already_linked'; customerId: string }
  /** No customer has that number: the identity's guest customer keeps it for next time. */
  | { outcome: 'phone_saved'; customerId: string }
  | { outcome: 'no_match' }
  /** The identity has not written yet; intake will resolve the customer by the phone itself. */
  | { outcome: 'no_identity' };

/**
 * Moves a channel identity (and its open conversation) to another customer, with an audit record.
 * Earlier, closed conversations stay with the customer they happened under.
 */
export async function relinkIdentity(
  tx: Tx,
  input: { channelIdentityId: string; fromCustomerId: string; toCustomerId: string; reason: string; now: Date },
): Promise<void> {
  await tx.update(channelIdentities).set({ customerId: input.toCustomerId }).where(eq(channelIdentities.id, input.channelIdentityId));
  await tx
    .update(conversations)
    .set({ customerId: input.toCustomerId, updatedAt: input.now })
    .where(and(eq(conversations.channelIdentityId, input.channelIdentityId), ne(conversations.status, 'closed')));
  await tx.insert(auditLog).values({
    actorType: 'customer',
    actorId: input.fromCustomerId,
    action: 'channel_identity.relinked',
    subjectType: 'channel_identity',
    subjectId: input.channelIdentityId,
    data: { from: input.fromCustomerId, to: input.toCustomerId, reason: input.reason },
    createdAt: input.now,
  });
}

/**
 * Links a channel identity to the customer with a phone number the channel has verified belongs
 * to the sender (a Telegram contact shared with the request_contact button).
 */
export async function linkIdentityByPhone(
  db: Db,
  input: { channel: ChannelKind; externalId: string; phone: string; now: Date },
): Promise<LinkResult> {
  return db.transaction(async (tx) => {
    const [identity] = await tx
      .select({ id: channelIdentities.id, customerId: channelIdentities.customerId })
      .from(channelIdentities)
      .where(and(eq(channelIdentities.channel, input.channel), eq(channelIdentities.externalId, input.externalId)))
      .for('update')
      .limit(1);
    if (!identity) return { outcome: 'no_identity' };
    const [owner] = await tx.select({ id: customers.id }).from(customers).where(eq(customers.phone, input.phone)).limit(1);
    if (owner) {
      if (owner.id === identity.customerId) return { outcome: 'already_linked', customerId: owner.id };
      await relinkIdentity(tx, {
        channelIdentityId: identity.id,
        fromCustomerId: identity.customerId,
        toCustomerId: owner.id,
        reason: 'verified_phone',
        now: input.now,
      });
      return { outcome: 'linked', customerId: owner.id, previousCustomerId: identity.customerId };
    }
    const saved = await tx
      .update(customers)
      .set({ phone: input.phone })
      .where(and(eq(customers.id, identity.customerId), eq(customers.guest, true)))
      .returning({ id: customers.id });
    return saved.length > 0 ? { outcome: 'phone_saved', customerId: identity.customerId } : { outcome: 'no_match' };
  });
}

/**
 * Marks a channel identity reachable or not, from the channel's own signal (a Telegram user
 * blocking the bot). Unknown identities are left alone: there is nobody to stop writing to.
 */
export async function setIdentityReachable(
  db: Db,
  input: { channel: ChannelKind; externalId: string; reachable: boolean; reason: string },
): Promise<boolean> {
  const updated = await db
    .update(channelIdentities)
    .set(input.reachable ? { unreachable: false, unreachableReason: null } : { unreachable: true, unreachableReason: input.reason })
    .where(and(eq(channelIdentities.channel, input.channel), eq(channelIdentities.externalId, input.externalId)))
    .returning({ id: channelIdentities.id });
  return updated.length > 0;
}
