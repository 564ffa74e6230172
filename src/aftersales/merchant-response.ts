import { and, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { auditLog, complaints, conversations, merchantRemedy, merchantResponsePhotos, merchantResponses, merchants, notifications, timers } from '../db/schema.js';
import { MERCHANT_DEADLINE, MERCHANT_REMINDER } from './merchant-notice.js';
import { type ProgressMessages, tellConsumer } from './progress.js';

export const Remedy = z.enum(merchantRemedy.enumValues);
export type Remedy = z.infer<typeof Remedy>;

/** A photo's content type from its first bytes; the name or the browser's claim is never trusted. */
export function sniffImage(bytes: Uint8Array): 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp' | null {
  const at = (i: number) => bytes[i] ?? -1;
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return 'image/jpeg';
  if (at(0) === 0x89 && at(1) === 0x50 && at(2) === 0x4e && at(3) === 0x47 && at(4) === 0x0d && at(5) === 0x0a && at(6) === 0x1a && at(7) === 0x0a) return 'image/png';
  if (at(0) === 0x47 && at(1) === 0x49 && at(2) === 0x46 && at(3) === 0x38) return 'image/gif';
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.slice(from, to));
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  return null;
}

export interface MerchantAnswer {
  statement: string;
  remedy: Remedy;
  amountCents: number | null;
  photos: { contentType: string; bytes: Buffer }[];
}

export type RecordResult = { ok: true; responseId: string; wroteMessages: boolean; conversationId: string | null } | { ok: false; code: 'already_answered' | 'not_found' };

/**
 * Records a merchant's answer (one per complaint: the unique complaint_id decides a double
 * submit), cancels its reminder and deadline timers, notifies the case owner (or the managers) and
 * tells the consumer "the merchant responded", exactly once.
 */
export async function recordMerchantAnswer(
  db: Db,
  wording: ProgressMessages,
  input: { complaintId: string; merchantId: string; answer: MerchantAnswer },
  now: Date,
): Promise<RecordResult> {
  return db.transaction(async (tx) => {
    const [c] = await tx
      .select({ complaint: complaints, merchantName: merchants.name })
      .from(complaints)
      .innerJoin(merchants, eq(merchants.id, complaints.merchantId))
      .where(and(eq(complaints.id, input.complaintId), eq(complaints.merchantId, input.merchantId)))
      .for('update', { of: complaints });
    if (!c) return { ok: false, code: 'not_found' } as const;
    if (c.complaint.merchantRespondedAt) return { ok: false, code: 'already_answered' } as const;
    const late = c.complaint.merchantDueAt !== null && now > c.complaint.merchantDueAt;
    const [row] = await tx
      .insert(merchantResponses)
      .values({
        complaintId: input.complaintId,
        merchantId: input.merchantId,
        statement: input.answer.statement,
        remedy: input.answer.remedy,
        amountCents: input.answer.amountCents,
        late,
        createdAt: now,
      })
      .onConflictDoNothing({ target: merchantResponses.complaintId })
      .returning({ id: merchantResponses.id });
    if (!row) return { ok: false, code: 'already_answered' } as const;
    if (input.answer.photos.length > 0) {
      await tx.insert(merchantResponsePhotos).values(
        input.answer.photos.map((p) => ({ responseId: row.id, contentType: p.contentType, bytes: p.bytes, size: p.bytes.length, createdAt: now })),
      );
    }
    await tx.update(complaints).set({ merchantRespondedAt: now }).where(eq(complaints.id, input.complaintId));
    await tx
      .update(timers)
      .set({ cancelledAt: now })
      .where(and(eq(timers.subjectId, input.complaintId), isNull(timers.firedAt), isNull(timers.cancelledAt)));
    await tx.insert(auditLog).values({
      actorType: 'merchant',
      actorId: input.merchantId,
      action: 'complaint.merchant_responded',
      subjectType: 'complaint',
      subjectId: input.complaintId,
      data: { remedy: input.answer.remedy, amountCents: input.answer.amountCents, photos: input.answer.photos.length, late },
      createdAt: now,
    });
    const conversationId = c.complaint.conversationId;
    let wrote = false;
    if (conversationId) {
      const [conv] = await tx.select({ owner: conversations.ownerAgentId }).from(conversations).where(eq(conversations.id, conversationId));
      await tx.insert(notifications).values(
        conv?.owner
          ? { audience: 'agent', agentId: conv.owner, kind: 'merchant.responded', conversationId, data: { ticketNumber: c.complaint.ticketNumber }, createdAt: now }
          : { audience: 'managers', kind: 'merchant.responded', conversationId, data: { ticketNumber: c.complaint.ticketNumber }, createdAt: now },
      );
      wrote = await tellConsumer(
        tx,
        wording,
        {
          key: `merchant_responded:${input.complaintId}`,
          kind: 'merchant_responded',
          conversationId,
          vars: () => ({ merchant: c.merchantName, ticket: c.complaint.ticketNumber }),
        },
        now,
      );
    }
    return { ok: true, responseId: row.id, wroteMessages: wrote, conversationId } as const;
  });
}
