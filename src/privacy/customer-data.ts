import { type AttachmentStore, createAttachmentStore } from '../attachments/store.js';
import { and, asc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import { maskEmails, maskPersonalData } from '../core/mask.js';
import type { Db, Tx } from '../db/client.js';
import {
  auditLog,
  channelIdentities,
  complaints,
  conversations,
  coupons,
  customers,
  handoffs,
  messages,
  orders,
  refunds,
  webchatSessions,
} from '../db/schema.js';

/** What `kefu customer export|erase` accept: a customer id, an email address or a phone number. */
export const CustomerRef = z.string().trim().min(3).max(320);

/** Finds the one customer a reference names (id, email or phone); unknown or erased → not_found. */
export async function findCustomer(db: Db | Tx, ref: string): Promise<{ id: string }> {
  const value = CustomerRef.parse(ref);
  const byId = z.uuid().safeParse(value).success ? eq(customers.id, value) : sql`false`;
  const rows = await db
    .select({ id: customers.id })
    .from(customers)
    .where(and(isNull(customers.erasedAt), or(byId, eq(customers.email, value.toLowerCase()), eq(customers.phone, value.replace(/[\s-]/g, '')))))
    .limit(2);
  const [found] = rows;
  if (!found) throw new AppError('not_found', 'no customer with that id, email or phone');
  if (rows.length > 1) throw new AppError('conflict', 'the reference names more than one customer; use the customer id');
  return found;
}

/**
 * Everything kefu holds about one person (PIPL/GDPR access request): the customer record, their
 * channel identities, every conversation with its messages and handoffs, orders with coupons,
 * refunds, complaints and the audit entries about them. Plain JSON, dates as ISO strings.
 */
export async function exportCustomer(db: Db, ref: string, now: Date): Promise<Record<string, unknown>> {
  const { id } = await findCustomer(db, ref);
  const [customer] = await db.select().from(customers).where(eq(customers.id, id));
  const identities = await db.select().from(channelIdentities).where(eq(channelIdentities.customerId, id)).orderBy(asc(channelIdentities.createdAt));
  const convs = await db.select().from(conversations).where(eq(conversations.customerId, id)).orderBy(asc(conversations.createdAt));
  const convIds = convs.map((c) => c.id);
  const msgs = convIds.length ? await db.select().from(messages).where(inArray(messages.conversationId, convIds)).orderBy(asc(messages.seq)) : [];
  const handoffRows = convIds.length ? await db.select().from(handoffs).where(inArray(handoffs.conversationId, convIds)) : [];
  const orderRows = await db.select().from(orders).where(eq(orders.customerId, id)).orderBy(asc(orders.createdAt));
  const couponRows = orderRows.length ? await db.select().from(coupons).where(inArray(coupons.orderId, orderRows.map((o) => o.id))) : [];
  const refundRows = await db.select().from(refunds).where(eq(refunds.customerId, id));
  const complaintRows = await db.select().from(complaints).where(eq(complaints.customerId, id));
  const audits = await db
    .select()
    .from(auditLog)
    .where(
      or(
        and(eq(auditLog.subjectType, 'customer'), eq(auditLog.subjectId, id)),
        and(eq(auditLog.actorType, 'customer'), eq(auditLog.actorId, id)),
        identities.length ? and(eq(auditLog.subjectType, 'channel_identity'), inArray(auditLog.subjectId, identities.map((i) => i.id))) : sql`false`,
        convIds.length ? and(eq(auditLog.subjectType, 'conversation'), inArray(auditLog.subjectId, convIds)) : sql`false`,
      ),
    )
    .orderBy(asc(auditLog.id));
  return JSON.parse(
    JSON.stringify({
      exportedAt: now.toISOString(),
      customer,
      channelIdentities: identities,
      conversations: convs.map((c) => ({
        ...c,
        messages: msgs.filter((m) => m.conversationId === c.id && m.direction !== 'internal'),
        handoffs: handoffRows.filter((h) => h.conversationId === c.id),
      })),
      orders: orderRows.map((o) => ({ ...o, coupons: couponRows.filter((c) => c.orderId === o.id) })),
      refunds: refundRows,
      complaints: complaintRows,
      audit: audits,
    }),
  );
}

const ERASED = '[erased]';

/**
 * Erases one person's personal data on their request: the customer record's fields are blanked,
 * their channel identities no longer name them, message texts, subjects and originals, handoff
 * packets and summaries, complaint descriptions and attachments are replaced, the files they sent
 * deleted (from the S3 bucket too, when files are kept there), web chat sessions
 * ended. Orders, coupons, refunds and complaints stay (the platform must keep money and
 * complaint records), pointing at the blanked customer. Audited (`customer.erased`), in one
 * transaction. Returns the counts.
 */
export async function eraseCustomer(
  db: Db,
  ref: string,
  actor: string,
  now: Date,
  files: AttachmentStore = createAttachmentStore(db),
): Promise<Record<string, number>> {
  return db.transaction(async (tx) => {
    const { id } = await findCustomer(tx, ref);
    await tx
      .update(customers)
      .set({ name: null, phone: null, email: null, birthYear: null, firstTimeUser: false, erasedAt: now })
      .where(eq(customers.id, id));
    const identities = await tx
      .update(channelIdentities)
      // The external id is what found the person (an address, a Telegram id): replaced, kept unique.
      .set({ externalId: sql`'erased:' || ${channelIdentities.id}`, displayName: null, unreachable: true, unreachableReason: 'erased' })
      .where(eq(channelIdentities.customerId, id))
      .returning({ id: channelIdentities.id });
    const identityIds = identities.map((i) => i.id);
    if (identityIds.length) await tx.delete(webchatSessions).where(inArray(webchatSessions.channelIdentityId, identityIds));
    // The files they sent (photos, PDFs) go too, wherever they are kept (an S3 bucket included).
    const fileCount = await files.deleteOf(tx, identityIds);
    const convIds = (await tx.select({ id: conversations.id }).from(conversations).where(eq(conversations.customerId, id))).map((c) => c.id);
    let messageCount = 0;
    if (convIds.length) {
      const erased = await tx
        .update(messages)
        .set({ text: ERASED, original: null, subject: null, attachments: [], quickReplies: null, maskedAt: now })
        .where(inArray(messages.conversationId, convIds))
        .returning({ id: messages.id });
      messageCount = erased.length;
      await tx.update(conversations).set({ state: {}, thread: {}, updatedAt: now }).where(inArray(conversations.id, convIds));
      await tx.update(handoffs).set({ summary: ERASED, slots: {}, context: {}, callbackPhone: null }).where(inArray(handoffs.conversationId, convIds));
    }
    const complaintRows = await tx
      .update(complaints)
      .set({ description: ERASED, attachments: [], occurredAt: null })
      .where(eq(complaints.customerId, id))
      .returning({ id: complaints.id });
    const counts = { identities: identityIds.length, conversations: convIds.length, messages: messageCount, complaints: complaintRows.length, files: fileCount };
    await tx.insert(auditLog).values({
      actorType: 'operator',
      actorId: actor,
      action: 'customer.erased',
      subjectType: 'customer',
      subjectId: id,
      data: counts,
      createdAt: now,
    });
    return counts;
  });
}

/**
 * Masks personal data (phone, card and ID numbers, email addresses, passwords, SMS codes) in
 * messages older than `before`, in batches; returns how many were masked (less than `batch`
 * means none are left).
 */
export async function maskOldMessages(db: Db | Tx, before: Date, now: Date, batch = 500): Promise<number> {
  const rows = await db
    .select({ id: messages.id, text: messages.text, original: messages.original, subject: messages.subject })
    .from(messages)
    .where(and(isNull(messages.maskedAt), lt(messages.createdAt, before)))
    .limit(batch);
  const mask = (t: string) => maskEmails(maskPersonalData(t));
  for (const row of rows) {
    await db
      .update(messages)
      .set({
        text: mask(row.text),
        original: row.original === null ? null : mask(row.original),
        subject: row.subject === null ? null : mask(row.subject),
        maskedAt: now,
      })
      .where(eq(messages.id, row.id));
  }
  return rows.length;
}
