import { and, asc, desc, eq, ilike, inArray, isNotNull, or, sql } from 'drizzle-orm';
import { type AnyPgColumn, alias } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { buildHandoffPacket, type HandoffPacket } from '../actions/handoff-context.js';
import type { Db } from '../db/client.js';
import { agents, complaints, conversations, coupons, customers, handoffs, messages, notifications, orders, refunds } from '../db/schema.js';
import type { Actor } from './cases.js';

export const QueueView = z.enum(['waiting', 'mine', 'escalated']);
export type QueueView = z.infer<typeof QueueView>;

const owner = alias(agents, 'owner');
const transferTo = alias(agents, 'transfer_to');

const latestHandoff = (column: AnyPgColumn) =>
  sql<string | null>`(select ${column} from ${handoffs} where ${handoffs.conversationId} = ${conversations.id} order by ${handoffs.createdAt} desc limit 1)`;

/** The deadline that matters next: the first reply until there is one, then resolution. */
const nextDue = sql<Date | null>`case when ${conversations.firstHumanReplyAt} is null then ${conversations.firstResponseDueAt} else ${conversations.resolutionDueAt} end`;

function caseColumns() {
  return {
    id: conversations.id,
    status: conversations.status,
    channel: conversations.channel,
    /** proven | claimed | anonymous: agents see "sender not verified" on an unproven case. */
    identityLevel: conversations.identityLevel,
    locale: conversations.locale,
    priority: conversations.priority,
    escalated: conversations.escalated,
    handoffAt: conversations.handoffAt,
    firstResponseDueAt: conversations.firstResponseDueAt,
    resolutionDueAt: conversations.resolutionDueAt,
    firstHumanReplyAt: conversations.firstHumanReplyAt,
    resolvedAt: conversations.resolvedAt,
    resolutionCode: conversations.resolutionCode,
    satisfaction: conversations.satisfaction,
    lastMessageAt: conversations.lastMessageAt,
    ownerAgentId: conversations.ownerAgentId,
    ownerName: owner.name,
    transferToAgentId: conversations.transferToAgentId,
    transferToName: transferTo.name,
    customerId: customers.id,
    customerName: customers.name,
    firstTimeUser: customers.firstTimeUser,
    ticketNumber: latestHandoff(handoffs.ticketNumber),
    reason: latestHandoff(handoffs.reason),
    summary: latestHandoff(handoffs.summary),
  };
}

function caseQuery(db: Db) {
  return db
    .select(caseColumns())
    .from(conversations)
    .innerJoin(customers, eq(customers.id, conversations.customerId))
    .leftJoin(owner, eq(owner.id, conversations.ownerAgentId))
    .leftJoin(transferTo, eq(transferTo.id, conversations.transferToAgentId));
}

export type CaseRow = Awaited<ReturnType<ReturnType<typeof caseQuery>['execute']>>[number];

/** A queue view, ordered by priority (highest first), then the next deadline. */
export async function queue(db: Db, actor: Actor, view: QueueView, limit = 200): Promise<CaseRow[]> {
  const open = inArray(conversations.status, ['waiting', 'assigned']);
  const where =
    view === 'waiting'
      ? eq(conversations.status, 'waiting')
      : view === 'mine'
        ? and(open, or(eq(conversations.ownerAgentId, actor.id), eq(conversations.transferToAgentId, actor.id)))
        : and(open, eq(conversations.escalated, true));
  return caseQuery(db)
    .where(where)
    .orderBy(desc(conversations.priority), sql`${nextDue} asc nulls last`, asc(conversations.handoffAt))
    .limit(limit);
}

/** One case with its transcript (internal notes included) and the live order-context packet, as of `now`. */
export async function caseDetail(db: Db, conversationId: string, now: Date = new Date()) {
  const [row] = await caseQuery(db).where(eq(conversations.id, conversationId)).limit(1);
  if (!row) return null;
  const handoffRows = await db
    .select({
      id: handoffs.id,
      ticketNumber: handoffs.ticketNumber,
      reason: handoffs.reason,
      priority: handoffs.priority,
      slots: handoffs.slots,
      summary: handoffs.summary,
      callbackPhone: handoffs.callbackPhone,
      createdAt: handoffs.createdAt,
    })
    .from(handoffs)
    .where(eq(handoffs.conversationId, conversationId))
    .orderBy(desc(handoffs.createdAt));
  const latest = handoffRows[0] ?? null;
  const [transcript, packet, reviewRefunds] = await Promise.all([
    db
      .select({
        id: messages.id,
        direction: messages.direction,
        author: messages.author,
        agentName: agents.name,
        text: messages.text,
        quickReplies: messages.quickReplies,
        attachments: messages.attachments,
        deliveryStatus: messages.deliveryStatus,
        createdAt: messages.createdAt,
      })
      .from(messages)
      .leftJoin(agents, eq(agents.id, messages.agentId))
      .where(eq(messages.conversationId, conversationId))
      .orderBy(asc(messages.seq))
      .limit(500),
    buildHandoffPacket(db, conversationId, latest ? { reason: latest.reason, slots: latest.slots, callbackPhone: latest.callbackPhone, asOf: now } : { reason: 'flow', slots: {}, asOf: now }),
    db
      .select({ id: refunds.id, amountCents: refunds.amountCents, policy: refunds.policy, reason: refunds.reason, couponCode: coupons.code, createdAt: refunds.createdAt })
      .from(refunds)
      .innerJoin(coupons, eq(coupons.id, refunds.couponId))
      .where(and(eq(refunds.customerId, row.customerId), eq(refunds.status, 'pending_review')))
      .orderBy(asc(refunds.createdAt)),
  ]);
  return { case: row, handoff: latest, handoffs: handoffRows, transcript, packet: packet satisfies HandoffPacket, refundsUnderReview: reviewRefunds };
}

export type CaseDetail = NonNullable<Awaited<ReturnType<typeof caseDetail>>>;

/** Finds handed-off cases by phone, order number, coupon code, customer name, ticket or complaint number. */
export async function searchCases(db: Db, q: string, limit = 30): Promise<CaseRow[]> {
  const term = q.trim();
  if (term.length < 2) return [];
  const like = `%${term.replace(/[%_\\]/g, (m) => `\\${m}`)}%`;
  const customerIds = db
    .select({ id: customers.id })
    .from(customers)
    .where(or(ilike(customers.name, like), eq(customers.phone, term), ilike(customers.phone, `%${term}`), eq(customers.email, term.toLowerCase())));
  const byOrder = db.select({ id: orders.customerId }).from(orders).where(eq(orders.orderNumber, term));
  const byCoupon = db
    .select({ id: orders.customerId })
    .from(coupons)
    .innerJoin(orders, eq(orders.id, coupons.orderId))
    .where(eq(coupons.code, term));
  const byTicket = db.select({ id: handoffs.conversationId }).from(handoffs).where(eq(handoffs.ticketNumber, term.toUpperCase()));
  const byComplaint = db.select({ id: complaints.conversationId }).from(complaints).where(eq(complaints.ticketNumber, term.toUpperCase()));
  return caseQuery(db)
    .where(
      and(
        isNotNull(conversations.handoffAt),
        or(
          inArray(conversations.customerId, customerIds),
          inArray(conversations.customerId, byOrder),
          inArray(conversations.customerId, byCoupon),
          inArray(conversations.id, byTicket),
          inArray(conversations.id, byComplaint),
        ),
      ),
    )
    .orderBy(desc(conversations.handoffAt))
    .limit(limit);
}

/** The newest notifications for a console user (their own, and the managers' when a manager). */
export async function notificationsFor(db: Db, actor: Actor, limit = 30) {
  const mine = eq(notifications.agentId, actor.id);
  const where = actor.role === 'agent' ? mine : or(mine, eq(notifications.audience, 'managers'));
  return db
    .select({
      id: notifications.id,
      kind: notifications.kind,
      conversationId: notifications.conversationId,
      data: notifications.data,
      createdAt: notifications.createdAt,
    })
    .from(notifications)
    .where(where)
    .orderBy(desc(notifications.createdAt))
    .limit(limit);
}

/** Active console users, for transfer targets and the admin page. */
export async function staff(db: Db) {
  return db
    .select({ id: agents.id, name: agents.name, email: agents.email, role: agents.role, active: agents.active, createdAt: agents.createdAt })
    .from(agents)
    .orderBy(asc(agents.role), asc(agents.email));
}
