import { and, asc, desc, eq, gt, inArray, isNotNull, min, ne, or, sql } from 'drizzle-orm';
import type { WebchatSession, WebchatStore } from '../core/webchat-store.js';
import type { Db } from '../db/client.js';
import { type AttachmentStore, createAttachmentStore } from '../attachments/store.js';
import { channelIdentities, conversations, customers, messages, webchatSessions } from '../db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../db/seed.js';

/** The web chat channel's storage port over our tables. */
export function createWebchatStore(db: Db, files: AttachmentStore = createAttachmentStore(db)): WebchatStore {
  return {
    async demoCustomers(limit) {
      return db
        .select({
          id: customers.id,
          name: customers.name,
          locale: customers.locale,
          birthYear: customers.birthYear,
          firstTimeUser: customers.firstTimeUser,
        })
        .from(customers)
        .where(eq(customers.guest, false))
        // The demo's featured senior first-time user leads the picker.
        .orderBy(
          desc(sql`${customers.id} = ${DEMO_SENIOR_CUSTOMER_ID}`),
          desc(customers.firstTimeUser),
          asc(customers.createdAt),
          asc(customers.phone),
        )
        .limit(limit);
    },

    async findCustomer(customerId) {
      const [customer] = await db.select({ id: customers.id, guest: customers.guest }).from(customers).where(eq(customers.id, customerId)).limit(1);
      return customer ?? null;
    },

    async createSession({ customerId, externalId, locale, identityLevel, tokenHash, now, expiresAt }) {
      let opened = false;
      const identityId = await db.transaction(async (tx) => {
        const [existing] = await tx
          .select({ id: channelIdentities.id })
          .from(channelIdentities)
          .where(and(eq(channelIdentities.channel, 'webchat'), eq(channelIdentities.externalId, externalId)))
          .limit(1);
        if (existing) return existing.id;
        opened = true;
        const owner =
          customerId ??
          (await tx.insert(customers).values({ guest: true, locale: locale ?? 'zh-Hans' }).returning({ id: customers.id }))[0]?.id;
        if (!owner) throw new Error('guest insert returned no row');
        const [identity] = await tx
          .insert(channelIdentities)
          .values({ customerId: owner, channel: 'webchat', externalId, lastSeenAt: now })
          .onConflictDoUpdate({ target: [channelIdentities.channel, channelIdentities.externalId], set: { lastSeenAt: now } })
          .returning({ id: channelIdentities.id });
        if (!identity) throw new Error('identity insert returned no row');
        return identity.id;
      });
      const [session] = await db
        .insert(webchatSessions)
        .values({ tokenHash, channelIdentityId: identityId, locale, identityLevel, createdAt: now, expiresAt })
        .returning({ id: webchatSessions.id });
      if (!session) throw new Error('session insert returned no row');
      return { sessionId: session.id, opened };
    },

    async findSession(tokenHash) {
      const [row] = await db
        .select({
          id: webchatSessions.id,
          expiresAt: webchatSessions.expiresAt,
          locale: webchatSessions.locale,
          identityLevel: webchatSessions.identityLevel,
          channelIdentityId: channelIdentities.id,
          externalId: channelIdentities.externalId,
          customerId: channelIdentities.customerId,
          displayName: channelIdentities.displayName,
          firstTimeUser: customers.firstTimeUser,
        })
        .from(webchatSessions)
        .innerJoin(channelIdentities, eq(channelIdentities.id, webchatSessions.channelIdentityId))
        .innerJoin(customers, eq(customers.id, channelIdentities.customerId))
        .where(eq(webchatSessions.tokenHash, tokenHash))
        .limit(1);
      if (!row) return null;
      // Sessions from before identity levels: a customer identity could only be opened signed (or in demo mode).
      return { ...row, identityLevel: row.identityLevel ?? (row.externalId.startsWith('customer:') ? 'proven' : 'anonymous') };
    },

    async lastChoiceLabel(channelIdentityId, choice) {
      const [last] = await db
        .select({ quickReplies: messages.quickReplies })
        .from(messages)
        .innerJoin(conversations, eq(conversations.id, messages.conversationId))
        .where(and(eq(conversations.channelIdentityId, channelIdentityId), isNotNull(messages.quickReplies)))
        .orderBy(desc(messages.seq))
        .limit(1);
      return last?.quickReplies?.find((q) => q.id === choice)?.label ?? null;
    },

    async conversationLocale(channelIdentityId) {
      const [row] = await db
        .select({ locale: conversations.locale })
        .from(conversations)
        .where(eq(conversations.channelIdentityId, channelIdentityId))
        .orderBy(desc(conversations.lastMessageAt))
        .limit(1);
      return row?.locale ?? null;
    },

    async conversationStatus(channelIdentityId) {
      const [row] = await db
        .select({ locale: conversations.locale, agentSeenAt: conversations.agentSeenAt })
        .from(conversations)
        .where(eq(conversations.channelIdentityId, channelIdentityId))
        .orderBy(desc(conversations.lastMessageAt))
        .limit(1);
      return row ?? null;
    },

    async setLocale(sessionId, channelIdentityId, locale) {
      await db.update(webchatSessions).set({ locale }).where(eq(webchatSessions.id, sessionId));
      await db
        .update(conversations)
        .set({ locale })
        .where(and(eq(conversations.channelIdentityId, channelIdentityId), ne(conversations.status, 'closed')));
    },

    async saveAttachment({ channelIdentityId, uploadKey, contentType, filename, bytes, now }) {
      const saved = await files.save({ channelIdentityId, uploadKey, contentType, filename, bytes, now });
      return { id: saved.id };
    },

    findAttachment: (id) => files.find(id),

    async history(channelIdentityId, after, limit) {
      const session = { channelIdentityId };
      // Undelivered first: a reply delivered between the two reads is then still in `rows`.
      const undelivered = await firstUndelivered(db, session, after);
      const rows = await historyRows(db, session, after, limit);
      const last = rows.at(-1);
      const end = last ? last.seq : after;
      return { messages: rows, cursor: undelivered === null ? end : Math.max(after, Math.min(end, undelivered - 1)) };
    },
  };
}

type IdentityRef = Pick<WebchatSession, 'channelIdentityId'>;

function historyRows(db: Db, session: IdentityRef, after: number, limit: number) {
  return db
    .select({
      id: messages.id,
      seq: messages.seq,
      author: messages.author,
      text: messages.text,
      quickReplies: messages.quickReplies,
      attachments: messages.attachments,
      createdAt: messages.createdAt,
    })
    .from(messages)
    .where(
      and(
        inArray(messages.conversationId, identityConversations(db, session)),
        gt(messages.seq, after),
        ne(messages.direction, 'internal'),
        // Outgoing messages appear once the outbox delivered them.
        // The empty message that opened the chat (the greeting's trigger) is never shown.
        or(and(eq(messages.direction, 'in'), or(ne(messages.text, ''), sql`${messages.attachments} <> '[]'::jsonb`)), eq(messages.deliveryStatus, 'sent')),
      ),
    )
    .orderBy(asc(messages.seq))
    .limit(limit);
}

async function firstUndelivered(db: Db, session: IdentityRef, after: number): Promise<number | null> {
  const [row] = await db
    .select({ seq: min(messages.seq) })
    .from(messages)
    .where(
      and(
        inArray(messages.conversationId, identityConversations(db, session)),
        gt(messages.seq, after),
        eq(messages.direction, 'out'),
        eq(messages.deliveryStatus, 'pending'),
      ),
    );
  return row?.seq === null || row?.seq === undefined ? null : Number(row.seq);
}

function identityConversations(db: Db, session: IdentityRef) {
  return db.select({ id: conversations.id }).from(conversations).where(eq(conversations.channelIdentityId, session.channelIdentityId));
}
