import { and, desc, eq, gte, inArray, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import type { Db, Tx } from '../db/client.js';
import { refundArrival } from '../actions/money.js';
import { PaymentMethod, type RefundGateway, type RefundRequest } from '../actions/ports.js';
import { agents, auditLog, complaints, conversations, coupons, handoffs, messages, notifications, orders, refunds, timers } from '../db/schema.js';
import type { Conversation } from '../db/schema.js';
import { writeReplies } from '../inbox/write-replies.js';
import { tellAgentAssigned, tellRefundApproved, tellRefundDenied } from '../aftersales/progress-hooks.js';
import { type HandoffMessages, satisfactionQuickReplies } from './wording.js';

/** Who is acting in the console. */
export const Actor = z.object({ id: z.uuid(), name: z.string(), role: z.enum(['agent', 'manager', 'admin', 'editor']) });
export type Actor = z.infer<typeof Actor>;

/** Closed set of resolution codes. */
export const ResolutionCode = z.enum(['refunded', 'compensated', 'explained', 'merchant_contacted', 'duplicate', 'no_response', 'other']);
export type ResolutionCode = z.infer<typeof ResolutionCode>;

/** A case action's result: the conversation changed, or why it could not. */
export type CaseResult = { ok: true; conversationId: string; messageIds?: string[] } | { ok: false; code: 'conflict' | 'forbidden' | 'not_found'; message: string };

export interface CaseDeps {
  db: Db;
  wording: HandoffMessages;
  /** Days after a complaint's resolution until the follow-up message. */
  followupDays: number;
}

const isOpen = (c: Conversation) => c.status === 'waiting' || c.status === 'assigned';
const isManager = (actor: Actor) => actor.role === 'manager' || actor.role === 'admin';
const fail = (code: 'conflict' | 'forbidden' | 'not_found', message: string): CaseResult => ({ ok: false, code, message });

/** Turns a refused case action into the AppError the HTTP layer answers with. */
export function unwrap(result: CaseResult): { conversationId: string; messageIds?: string[] } {
  if (!result.ok) throw new AppError(result.code, result.message);
  return result;
}

async function audit(tx: Tx, actor: Actor | null, action: string, conversationId: string, data: Record<string, unknown>, now: Date) {
  await tx.insert(auditLog).values({
    actorType: actor ? 'agent' : 'system',
    actorId: actor?.id ?? null,
    action,
    subjectType: 'conversation',
    subjectId: conversationId,
    data,
    createdAt: now,
  });
}

/** Records a console notification (one agent, or every manager). */
export async function notify(
  tx: Tx,
  input: { audience: 'agent' | 'managers'; agentId?: string | null; kind: string; conversationId: string; data?: Record<string, unknown> },
  now: Date,
): Promise<void> {
  await tx.insert(notifications).values({
    audience: input.audience,
    agentId: input.agentId ?? null,
    kind: input.kind,
    conversationId: input.conversationId,
    data: input.data ?? {},
    createdAt: now,
  });
}

async function lockCase(tx: Tx, conversationId: string): Promise<Conversation | undefined> {
  const [row] = await tx.select().from(conversations).where(eq(conversations.id, conversationId)).for('update');
  return row;
}

async function activeStaff(tx: Tx, agentId: string) {
  const [row] = await tx.select().from(agents).where(and(eq(agents.id, agentId), eq(agents.active, true))).limit(1);
  return row;
}

/**
 * Takes a waiting case: one conditional UPDATE, so of two concurrent claimers exactly one wins.
 */
export async function claimCase(db: Db, actor: Actor, conversationId: string, now: Date): Promise<CaseResult> {
  return db.transaction(async (tx) => {
    const [won] = await tx
      .update(conversations)
      .set({ status: 'assigned', ownerAgentId: actor.id, transferToAgentId: null, updatedAt: now })
      .where(and(eq(conversations.id, conversationId), eq(conversations.status, 'waiting'), isNull(conversations.ownerAgentId)))
      .returning({ id: conversations.id });
    if (!won) {
      const [row] = await tx.select({ status: conversations.status }).from(conversations).where(eq(conversations.id, conversationId));
      return row ? fail('conflict', 'This case is not waiting any more; someone else may have claimed it') : fail('not_found', 'No such case');
    }
    await audit(tx, actor, 'case.claim', conversationId, { ownerAgentId: actor.id }, now);
    await tellAgentAssigned(tx, conversationId, actor, now);
    return { ok: true, conversationId };
  });
}

function mayAct(actor: Actor, c: Conversation): boolean {
  return c.ownerAgentId === actor.id || isManager(actor);
}

/** Sends an agent's reply through the consumer's channel (outbox); only the owner or a manager may. */
export async function replyToCase(db: Db, actor: Actor, conversationId: string, text: string, now: Date): Promise<CaseResult> {
  return db.transaction(async (tx) => {
    const c = await lockCase(tx, conversationId);
    if (!c) return fail('not_found', 'No such case');
    if (!isOpen(c)) return fail('conflict', `The case is ${c.status}; it cannot be answered`);
    if (!mayAct(actor, c)) return fail('forbidden', 'Only the owner of the case or a manager may reply');
    const messageIds = await writeReplies(tx, c, [{ author: 'agent', agentId: actor.id, text }], now);
    const first = c.firstHumanReplyAt === null;
    await tx
      .update(conversations)
      .set({ firstHumanReplyAt: c.firstHumanReplyAt ?? now, lastMessageAt: now, updatedAt: now })
      .where(eq(conversations.id, conversationId));
    if (first) {
      await tx
        .update(timers)
        .set({ cancelledAt: now })
        .where(
          and(
            eq(timers.subjectId, conversationId),
            inArray(timers.kind, ['sla.first_response.warn', 'sla.first_response.breach']),
            isNull(timers.firedAt),
          ),
        );
      await audit(tx, actor, 'case.first_reply', conversationId, { late: c.firstResponseDueAt !== null && now > c.firstResponseDueAt }, now);
    }
    return { ok: true, conversationId, messageIds };
  });
}

/** Adds an internal note agents see and the consumer never does. Any console user may. */
export async function addNote(db: Db, actor: Actor, conversationId: string, text: string, now: Date): Promise<CaseResult> {
  return db.transaction(async (tx) => {
    const c = await lockCase(tx, conversationId);
    if (!c) return fail('not_found', 'No such case');
    await insertNote(tx, actor, c, text, now);
    return { ok: true, conversationId };
  });
}

async function insertNote(tx: Tx, actor: Actor, c: Conversation, text: string, now: Date) {
  await tx.insert(messages).values({
    conversationId: c.id,
    direction: 'internal',
    author: 'agent',
    agentId: actor.id,
    channel: c.channel,
    text,
    deliveryStatus: 'not_sent',
    createdAt: now,
  });
}

/** Offers the case to another agent; the owner stays responsible until they accept. */
export async function transferCase(db: Db, actor: Actor, conversationId: string, toAgentId: string, note: string | null, now: Date): Promise<CaseResult> {
  return db.transaction(async (tx) => {
    const c = await lockCase(tx, conversationId);
    if (!c) return fail('not_found', 'No such case');
    if (c.status !== 'assigned') return fail('conflict', 'Only an owned case can be transferred; claim it first');
    if (!mayAct(actor, c)) return fail('forbidden', 'Only the owner of the case or a manager may transfer it');
    if (toAgentId === c.ownerAgentId) return fail('conflict', 'That agent already owns the case');
    const target = await activeStaff(tx, toAgentId);
    if (!target) return fail('not_found', 'No such active agent');
    // Admins manage the console; they do not own cases (and the console never offers them).
    if (target.role === 'admin') return fail('forbidden', 'Cases go to agents and managers, not to admins');
    await tx.update(conversations).set({ transferToAgentId: toAgentId, updatedAt: now }).where(eq(conversations.id, conversationId));
    if (note) await insertNote(tx, actor, c, note, now);
    await notify(tx, { audience: 'agent', agentId: toAgentId, kind: 'case.transfer_offered', conversationId, data: { from: actor.name } }, now);
    await audit(tx, actor, 'case.transfer_offer', conversationId, { from: c.ownerAgentId, to: toAgentId }, now);
    return { ok: true, conversationId };
  });
}

/** The receiver of a transfer takes the case over. */
export async function acceptTransfer(db: Db, actor: Actor, conversationId: string, now: Date): Promise<CaseResult> {
  return db.transaction(async (tx) => {
    const c = await lockCase(tx, conversationId);
    if (!c) return fail('not_found', 'No such case');
    if (c.transferToAgentId !== actor.id) return fail('forbidden', 'This case was not transferred to you');
    await tx
      .update(conversations)
      .set({ ownerAgentId: actor.id, transferToAgentId: null, status: 'assigned', updatedAt: now })
      .where(eq(conversations.id, conversationId));
    await audit(tx, actor, 'case.transfer_accept', conversationId, { from: c.ownerAgentId, to: actor.id }, now);
    await tellAgentAssigned(tx, conversationId, actor, now);
    return { ok: true, conversationId };
  });
}

/** A manager hands the case to another agent directly (no accept needed). */
export async function reassignCase(db: Db, actor: Actor, conversationId: string, toAgentId: string, now: Date): Promise<CaseResult> {
  if (!isManager(actor)) return fail('forbidden', 'Only a manager may reassign a case');
  return db.transaction(async (tx) => {
    const c = await lockCase(tx, conversationId);
    if (!c) return fail('not_found', 'No such case');
    if (!isOpen(c)) return fail('conflict', `The case is ${c.status}`);
    const target = await activeStaff(tx, toAgentId);
    if (!target) return fail('not_found', 'No such active agent');
    // Admins manage the console; they do not own cases (and the console never offers them).
    if (target.role === 'admin') return fail('forbidden', 'Cases go to agents and managers, not to admins');
    await tx
      .update(conversations)
      .set({ ownerAgentId: toAgentId, transferToAgentId: null, status: 'assigned', updatedAt: now })
      .where(eq(conversations.id, conversationId));
    await notify(tx, { audience: 'agent', agentId: toAgentId, kind: 'case.assigned', conversationId, data: { by: actor.name } }, now);
    await audit(tx, actor, 'case.reassign', conversationId, { from: c.ownerAgentId, to: toAgentId }, now);
    await tellAgentAssigned(tx, conversationId, target, now);
    return { ok: true, conversationId };
  });
}

/** Sends the case to the manager queue by hand, with a note saying why. */
export async function escalateCase(db: Db, actor: Actor, conversationId: string, note: string, now: Date): Promise<CaseResult> {
  return db.transaction(async (tx) => {
    const c = await lockCase(tx, conversationId);
    if (!c) return fail('not_found', 'No such case');
    if (!isOpen(c)) return fail('conflict', `The case is ${c.status}`);
    if (c.ownerAgentId !== null && !mayAct(actor, c)) return fail('forbidden', 'Only the owner of the case or a manager may escalate it');
    await tx.update(conversations).set({ escalated: true, updatedAt: now }).where(eq(conversations.id, conversationId));
    await insertNote(tx, actor, c, note, now);
    await notify(tx, { audience: 'managers', kind: 'case.escalated', conversationId, data: { by: actor.name, note } }, now);
    await audit(tx, actor, 'case.escalate', conversationId, { note }, now);
    return { ok: true, conversationId };
  });
}

/**
 * Resolves the case with a code: the consumer gets the 1–5 satisfaction question in their
 * channel, complaints get a follow-up timer, the remaining SLA timers are cancelled.
 */
export async function resolveCase(
  deps: CaseDeps,
  actor: Actor,
  conversationId: string,
  input: { code: ResolutionCode; note: string | null },
  now: Date,
): Promise<CaseResult> {
  return deps.db.transaction(async (tx) => {
    const c = await lockCase(tx, conversationId);
    if (!c) return fail('not_found', 'No such case');
    if (c.status !== 'assigned') return fail('conflict', c.status === 'waiting' ? 'Claim the case before resolving it' : `The case is ${c.status}`);
    if (!mayAct(actor, c)) return fail('forbidden', 'Only the owner of the case or a manager may resolve it');
    await tx
      .update(conversations)
      .set({ status: 'resolved', resolvedAt: now, resolutionCode: input.code, transferToAgentId: null, updatedAt: now, lastMessageAt: now })
      .where(eq(conversations.id, conversationId));
    if (input.note) await insertNote(tx, actor, c, input.note, now);
    await tx
      .update(timers)
      .set({ cancelledAt: now })
      .where(and(eq(timers.subjectId, conversationId), sql`${timers.kind} like 'sla.%'`, isNull(timers.firedAt), isNull(timers.cancelledAt)));
    const messageIds = await writeReplies(
      tx,
      c,
      [{ author: 'system', text: deps.wording.satisfaction.question[c.locale], quickReplies: satisfactionQuickReplies(deps.wording, c.locale) }],
      now,
    );
    // Any complaint handoff of this case (since it was handed off) earns the follow-up.
    const caseHandoffs = await tx
      .select({ reason: handoffs.reason, ticketNumber: handoffs.ticketNumber })
      .from(handoffs)
      .where(and(eq(handoffs.conversationId, conversationId), c.handoffAt ? gte(handoffs.createdAt, c.handoffAt) : undefined))
      .orderBy(desc(handoffs.createdAt));
    const handoff = caseHandoffs.find((h) => h.reason === 'complaint') ?? caseHandoffs[0];
    const [complaint] = await tx
      .select({ id: complaints.id, ticketNumber: complaints.ticketNumber })
      .from(complaints)
      .where(eq(complaints.conversationId, conversationId))
      .limit(1);
    if (handoff?.reason === 'complaint' || complaint) {
      await tx
        .insert(timers)
        .values({
          kind: 'case.followup',
          subjectId: conversationId,
          dueAt: new Date(now.getTime() + deps.followupDays * 86_400_000),
          payload: { ticketNumber: complaint?.ticketNumber ?? handoff?.ticketNumber ?? null },
          createdAt: now,
        })
        .onConflictDoUpdate({
          target: [timers.kind, timers.subjectId],
          set: { dueAt: sql`excluded.due_at`, payload: sql`excluded.payload`, firedAt: null, cancelledAt: null },
        });
    }
    await audit(tx, actor, 'case.resolve', conversationId, { code: input.code, owner: c.ownerAgentId }, now);
    return { ok: true, conversationId, messageIds };
  });
}

/**
 * Records the consumer's 1–5 answer to the satisfaction question and closes the conversation.
 * The responder calls it when a resolved conversation receives the answer; false when the
 * conversation is not waiting for one.
 */
export async function recordSatisfaction(tx: Tx, conversationId: string, score: number, now: Date): Promise<boolean> {
  const parsed = z.number().int().min(1).max(5).safeParse(score);
  if (!parsed.success) return false;
  const [row] = await tx
    .update(conversations)
    .set({ satisfaction: parsed.data, status: 'closed', updatedAt: now })
    .where(and(eq(conversations.id, conversationId), eq(conversations.status, 'resolved'), isNull(conversations.satisfaction)))
    .returning({ id: conversations.id });
  if (!row) return false;
  await audit(tx, null, 'case.satisfaction', conversationId, { score: parsed.data }, now);
  return true;
}

/**
 * Approves or denies a refund under review (one that refund.submit sent to an agent). The
 * decision is claimed with a conditional update, so two agents cannot both decide; an approval
 * pays through the same RefundGateway as the bot's refunds, called outside the transaction, and a
 * refused or unreachable payment puts the refund back under review.
 */
export async function decideRefund(
  deps: { db: Db; gateway: RefundGateway },
  actor: Actor,
  refundId: string,
  decision: 'approve' | 'deny',
  reason: string | null,
  now: Date,
): Promise<CaseResult> {
  const claimed = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ refund: refunds, order: orders, couponCode: coupons.code, usedAt: coupons.usedAt })
      .from(refunds)
      .innerJoin(orders, eq(orders.id, refunds.orderId))
      .innerJoin(coupons, eq(coupons.id, refunds.couponId))
      .where(eq(refunds.id, refundId))
      .for('update', { of: refunds });
    if (!row) return fail('not_found', 'No such refund');
    const { refund } = row;
    if (refund.status !== 'pending_review') return fail('conflict', `The refund is already ${refund.status}`);
    const conversation = refund.conversationId ? await lockCase(tx, refund.conversationId) : undefined;
    if (!isManager(actor) && conversation?.ownerAgentId !== actor.id) {
      return fail('forbidden', 'Only the owner of the case or a manager may decide this refund');
    }
    const paymentMethod = PaymentMethod.safeParse(row.order.paymentMethod);
    if (decision === 'approve' && !paymentMethod.success) return fail('conflict', `Unknown payment method ${row.order.paymentMethod}`);
    await tx
      .update(refunds)
      .set({ status: decision === 'approve' ? 'approved' : 'denied', decidedByAgentId: actor.id, decidedAt: now, ...(reason ? { reason } : {}) })
      .where(eq(refunds.id, refundId));
    if (decision === 'deny') {
      await tx
        .update(coupons)
        .set({ state: row.usedAt ? 'used' : 'unused' })
        .where(and(eq(coupons.id, refund.couponId), eq(coupons.state, 'refund_pending')));
      await tellRefundDenied(tx, { id: refundId, conversationId: refund.conversationId, couponCode: row.couponCode, reason }, now);
    }
    await tx.insert(auditLog).values({
      actorType: 'agent',
      actorId: actor.id,
      action: decision === 'approve' ? 'refund.approve' : 'refund.deny',
      subjectType: 'refund',
      subjectId: refundId,
      data: { amountCents: refund.amountCents, conversationId: refund.conversationId, reason, couponCode: row.couponCode },
      createdAt: now,
    });
    const done: CaseResult = { ok: true, conversationId: refund.conversationId ?? refundId };
    if (decision === 'deny' || !paymentMethod.success) return { result: done };
    const request: RefundRequest = {
      refundId,
      orderId: row.order.id,
      orderNumber: row.order.orderNumber,
      couponId: refund.couponId,
      couponCode: row.couponCode,
      customerId: refund.customerId,
      amountCents: refund.amountCents,
      paymentMethod: paymentMethod.data,
      reason: refund.reason,
    };
    return { result: done, request };
  });
  if ('ok' in claimed) return claimed;
  if (!claimed.request) return claimed.result;
  const request = claimed.request;
  const paid = await deps.gateway.submitRefund(request);
  return deps.db.transaction(async (tx) => {
    if (paid.status === 'failed') {
      await tx
        .update(refunds)
        .set({ status: 'pending_review', policy: 'review:gateway_failed', decidedAt: null, decidedByAgentId: null })
        .where(eq(refunds.id, refundId));
      await tx.insert(auditLog).values({
        actorType: 'agent',
        actorId: actor.id,
        action: 'refund.gateway_failed',
        subjectType: 'refund',
        subjectId: refundId,
        data: { failure: paid.failure, message: paid.message },
        createdAt: now,
      });
      return fail('conflict', `The payment was not made (${paid.failure}); the refund stays under review`);
    }
    const expectedBy = refundArrival(request.paymentMethod, now).by;
    await tx.update(refunds).set({ expectedBy }).where(eq(refunds.id, refundId));
    await tx.update(coupons).set({ state: 'refunded' }).where(eq(coupons.id, request.couponId));
    const conversationId = claimed.result.ok && claimed.result.conversationId !== refundId ? claimed.result.conversationId : null;
    await tellRefundApproved(tx, { id: refundId, conversationId, amountCents: request.amountCents, couponCode: request.couponCode, expectedBy }, now);
    return claimed.result;
  });
}
