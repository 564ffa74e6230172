import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Locale } from '../core/message.js';
import type { Db, Tx } from '../db/client.js';
import { nextTicketNumber } from '../db/counters.js';
import { auditLog, conversations, handoffs, timers } from '../db/schema.js';
import { buildHandoffPacket, type HandoffPacket, ruleBasedSummary } from './handoff-context.js';

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
  /** Share of each deadline after which the owner is warned (0.8 = at 80 %). */
  warningRatio?: number;
}

export const DEFAULT_HANDOFF_POLICY: HandoffPolicy = { firstResponseMs: 3600_000, resolutionMs: 24 * 3600_000, warningRatio: 0.8 };

/** The SLA policy from configuration; pass it to `openHandoff` so configured deadlines apply. */
export function handoffPolicyFromConfig(config: {
  SLA_FIRST_RESPONSE_MINUTES: number;
  SLA_RESOLUTION_HOURS: number;
  SLA_WARNING_RATIO: number;
}): HandoffPolicy {
  return {
    firstResponseMs: config.SLA_FIRST_RESPONSE_MINUTES * 60_000,
    resolutionMs: config.SLA_RESOLUTION_HOURS * 3600_000,
    warningRatio: config.SLA_WARNING_RATIO,
  };
}

export interface HandoffResult {
  handoffId: string;
  ticketNumber: string;
  firstResponseDueAt: Date;
  resolutionDueAt: Date;
}

/** SLA timer kinds; the timer worker (src/console/sla.ts) handles each. */
export const SLA_TIMER_KINDS = [
  'sla.first_response.warn',
  'sla.first_response.breach',
  'sla.resolution.warn',
  'sla.resolution.breach',
] as const;

/**
 * The port for an LLM summary. It is called after the handoff committed (never inside the
 * transaction: on embedded PGlite an open transaction blocks every other query); null keeps the
 * rule-based summary.
 */
export interface HandoffSummarizer {
  summarize(input: { packet: HandoffPacket; reason: HandoffReason; slots: Record<string, unknown>; locale: Locale; ruleSummary: string }): Promise<string | null>;
}

/**
 * Hands a conversation to humans inside the caller's transaction: a typed handoff record with a
 * ticket number, the order-context packet and a summary, the conversation moved to the waiting
 * queue with its SLA deadlines, durable SLA timers, audited.
 */
export async function openHandoff(tx: Tx, input: HandoffInput, now: Date, policy: HandoffPolicy = DEFAULT_HANDOFF_POLICY): Promise<HandoffResult> {
  const firstResponseDueAt = new Date(now.getTime() + policy.firstResponseMs);
  const resolutionDueAt = new Date(now.getTime() + policy.resolutionMs);
  const packet = await buildHandoffPacket(tx, input.conversationId, {
    reason: input.reason,
    slots: input.slots,
    callbackPhone: input.callbackPhone ?? null,
    asOf: now,
  });
  const [conversation] = await tx
    .select({ locale: conversations.locale })
    .from(conversations)
    .where(eq(conversations.id, input.conversationId))
    .limit(1);
  const summary = input.summary ?? ruleBasedSummary(packet, input.reason, conversation?.locale ?? packet.customer.locale);
  const handoffId = randomUUID();
  await tx
    .update(conversations)
    .set({
      status: 'waiting',
      priority: input.priority,
      ownerAgentId: null,
      transferToAgentId: null,
      escalated: false,
      handoffAt: now,
      firstResponseDueAt,
      resolutionDueAt,
      firstHumanReplyAt: null,
      resolvedAt: null,
      resolutionCode: null,
      satisfaction: null,
      updatedAt: now,
    })
    .where(eq(conversations.id, input.conversationId));
  const ratio = policy.warningRatio ?? 0.8;
  const due = (ms: number) => new Date(now.getTime() + ms);
  await tx
    .insert(timers)
    .values([
      { kind: 'sla.first_response.warn', dueAt: due(policy.firstResponseMs * ratio) },
      { kind: 'sla.first_response.breach', dueAt: firstResponseDueAt },
      { kind: 'sla.resolution.warn', dueAt: due(policy.resolutionMs * ratio) },
      { kind: 'sla.resolution.breach', dueAt: resolutionDueAt },
    ].map((t) => ({ ...t, subjectId: input.conversationId, payload: { handoffId }, createdAt: now })))
    // A second handoff of the same conversation re-arms its timers.
    .onConflictDoUpdate({
      target: [timers.kind, timers.subjectId],
      set: { dueAt: sql`excluded.due_at`, payload: sql`excluded.payload`, firedAt: null, cancelledAt: null },
    });
  // The day's ticket counter is one row every handoff locks until its transaction commits: take the
  // number last, so concurrent handoffs wait on each other as briefly as possible.
  // One number per case: a complaint's handoff carries the complaint's number, which the consumer
  // was already told; a later handoff of the same conversation gets its own.
  const complaintNumber = packet.focus?.kind === 'complaint' ? packet.focus.reference : null;
  const taken =
    complaintNumber === null
      ? true
      : (await tx.select({ id: handoffs.id }).from(handoffs).where(eq(handoffs.ticketNumber, complaintNumber)).limit(1)).length > 0;
  const ticketNumber = complaintNumber !== null && !taken ? complaintNumber : await nextTicketNumber(tx, 'T', now);
  // The audit entry goes in the same statement as the handoff row.
  const audited = tx.$with('handoff_audit', { id: auditLog.id }).as(
    tx
      .insert(auditLog)
      .values({
        actorType: 'bot',
        action: 'handoff.open',
        subjectType: 'conversation',
        subjectId: input.conversationId,
        data: { ticketNumber, reason: input.reason, priority: input.priority },
        createdAt: now,
      })
      .returning({ id: auditLog.id })
      .getSQL(),
  );
  const [row] = await tx
    .with(audited)
    .insert(handoffs)
    .values({
      id: handoffId,
      conversationId: input.conversationId,
      ticketNumber,
      reason: input.reason,
      priority: input.priority,
      slots: input.slots,
      summary,
      context: packet,
      callbackPhone: input.callbackPhone ?? null,
      createdAt: now,
    })
    .returning({ id: handoffs.id });
  if (!row) throw new Error('handoff insert returned no row');
  return { handoffId: row.id, ticketNumber, firstResponseDueAt, resolutionDueAt };
}

/** Replaces a handoff's rule-based summary with the summarizer's, after the handoff committed. */
export async function refineHandoffSummary(db: Db, handoffId: string, summarizer: HandoffSummarizer): Promise<boolean> {
  const [row] = await db
    .select({ handoff: handoffs, locale: conversations.locale })
    .from(handoffs)
    .innerJoin(conversations, eq(conversations.id, handoffs.conversationId))
    .where(eq(handoffs.id, handoffId))
    .limit(1);
  if (!row) return false;
  const packet = await buildHandoffPacket(db, row.handoff.conversationId, { ...row.handoff, asOf: row.handoff.createdAt });
  const better = await summarizer.summarize({
    packet,
    reason: row.handoff.reason,
    slots: row.handoff.slots,
    locale: row.locale,
    ruleSummary: row.handoff.summary,
  });
  if (!better) return false;
  await db.update(handoffs).set({ summary: better }).where(eq(handoffs.id, handoffId));
  return true;
}
