import { eq } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { nextTicketNumber } from '../db/counters.js';
import { auditLog, conversations, handoffs } from '../db/schema.js';

export type HandoffReason = (typeof handoffs.$inferInsert)['reason'];

export interface HandoffInput {
  conversationId: string;
  reason: HandoffReason;
  /** 0 normal, higher is more urgent (anger, complaints). */
  priority: number;
  slots: Record<string, unknown>;
  /** A short summary for the agent; a rule-based one is used when absent. */
  summary?: string;
  callbackPhone?: string | null;
}

export interface HandoffPolicy {
  /** First human reply due this long after the handoff. */
  firstResponseMs: number;
  /** Resolution due this long after the handoff. */
  resolutionMs: number;
}

export const DEFAULT_HANDOFF_POLICY: HandoffPolicy = { firstResponseMs: 3600_000, resolutionMs: 24 * 3600_000 };

export interface HandoffResult {
  handoffId: string;
  ticketNumber: string;
  firstResponseDueAt: Date;
  resolutionDueAt: Date;
}

/**
 * Hands a conversation to humans inside the caller's transaction: a typed handoff record with a
 * ticket number, the conversation moved to the waiting queue with its SLA deadlines, audited.
 */
export async function openHandoff(tx: Tx, input: HandoffInput, now: Date, policy: HandoffPolicy = DEFAULT_HANDOFF_POLICY): Promise<HandoffResult> {
  const ticketNumber = await nextTicketNumber(tx, 'T', now);
  const firstResponseDueAt = new Date(now.getTime() + policy.firstResponseMs);
  const resolutionDueAt = new Date(now.getTime() + policy.resolutionMs);
  const [row] = await tx
    .insert(handoffs)
    .values({
      conversationId: input.conversationId,
      ticketNumber,
      reason: input.reason,
      priority: input.priority,
      slots: input.slots,
      summary: input.summary ?? `Handed off (${input.reason}).`,
      callbackPhone: input.callbackPhone ?? null,
      createdAt: now,
    })
    .returning({ id: handoffs.id });
  if (!row) throw new Error('handoff insert returned no row');
  await tx
    .update(conversations)
    .set({
      status: 'waiting',
      priority: input.priority,
      handoffAt: now,
      firstResponseDueAt,
      resolutionDueAt,
      updatedAt: now,
    })
    .where(eq(conversations.id, input.conversationId));
  await tx.insert(auditLog).values({
    actorType: 'bot',
    action: 'handoff.open',
    subjectType: 'conversation',
    subjectId: input.conversationId,
    data: { ticketNumber, reason: input.reason, priority: input.priority },
    createdAt: now,
  });
  return { handoffId: row.id, ticketNumber, firstResponseDueAt, resolutionDueAt };
}
