import { and, asc, desc, eq, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { PaymentMethod, type RefundGateway } from '../actions/ports.js';
import { AppError } from '../core/errors.js';
import type { Db, Tx } from '../db/client.js';
import { auditLog, compensations, complaints, conversations, coupons, customers, merchants, notifications, orders } from '../db/schema.js';
import { formatMoney } from '../i18n/format.js';
import { isManager, type StaffActor } from './decisions.js';
import { type ProgressMessages, tellConsumer } from './progress.js';

export const CompensationRequest = z.object({ amountCents: z.number().int().positive().max(10_000_000), reason: z.string().trim().min(1).max(1000) }).strict();
export type CompensationRequest = z.infer<typeof CompensationRequest>;
export const CompensationDecision = z.object({ decision: z.enum(['approve', 'reject']), reason: z.string().trim().max(1000).optional() }).strict();

export interface CompensationDeps {
  db: Db;
  gateway: RefundGateway;
  wording: ProgressMessages;
  /** Above this many cents a manager must approve. */
  capCents: number;
}

type Row = typeof compensations.$inferSelect;

/** Pays an approved compensation through the refund gateway (its own idempotency key) and tells the consumer. */
async function pay(deps: CompensationDeps, tx: Tx, comp: Row, actor: StaffActor, now: Date): Promise<Row['status']> {
  const [c] = await tx.select().from(complaints).where(eq(complaints.id, comp.complaintId));
  const [order] = c?.orderId ? await tx.select().from(orders).where(eq(orders.id, c.orderId)) : [];
  const [coupon] = order ? await tx.select().from(coupons).where(eq(coupons.orderId, order.id)).orderBy(asc(coupons.code)).limit(1) : [];
  const method = PaymentMethod.safeParse(order?.paymentMethod);
  const result = await deps.gateway.submitRefund({
    refundId: comp.id,
    purpose: 'compensation',
    orderId: order?.id ?? comp.complaintId,
    orderNumber: order?.orderNumber ?? c?.ticketNumber ?? comp.complaintId,
    couponId: coupon?.id ?? comp.complaintId,
    couponCode: coupon?.code ?? '-',
    customerId: comp.customerId,
    amountCents: comp.amountCents,
    paymentMethod: method.success ? method.data : 'bank_card',
    reason: comp.reason,
  });
  const status = result.status === 'failed' ? 'failed' : 'paid';
  await tx
    .update(compensations)
    .set({ status, paidAt: status === 'paid' ? now : null, reference: result.status === 'failed' ? null : result.reference, decidedAt: now })
    .where(eq(compensations.id, comp.id));
  await tx.insert(auditLog).values({
    actorType: 'agent',
    actorId: actor.id,
    action: status === 'paid' ? 'compensation.paid' : 'compensation.payment_failed',
    subjectType: 'compensation',
    subjectId: comp.id,
    data: { amountCents: comp.amountCents, merchantId: comp.merchantId, customerId: comp.customerId, ...(result.status === 'failed' ? { failure: result.failure } : {}) },
    createdAt: now,
  });
  if (status === 'paid' && comp.conversationId) {
    await tellConsumer(
      tx,
      deps.wording,
      {
        key: `compensation_paid:${comp.id}`,
        kind: 'compensation_paid',
        conversationId: comp.conversationId,
        vars: () => ({ amount: formatMoney(comp.amountCents), ticket: c?.ticketNumber ?? '' }),
      },
      now,
    );
  }
  return status;
}

/**
 * An agent proposes compensation from the guarantee fund for a complaint. Up to the cap (or when a
 * manager proposes) it is approved and paid at once; above it, it waits for a manager.
 */
export async function proposeCompensation(deps: CompensationDeps, actor: StaffActor, complaintId: string, input: CompensationRequest, now: Date) {
  return deps.db.transaction(async (tx) => {
    const [c] = await tx.select().from(complaints).where(eq(complaints.id, complaintId)).for('update');
    if (!c) throw new AppError('not_found', 'No such complaint');
    const [conv] = c.conversationId ? await tx.select({ owner: conversations.ownerAgentId }).from(conversations).where(eq(conversations.id, c.conversationId)) : [];
    if (!isManager(actor) && conv?.owner !== actor.id) throw new AppError('forbidden', 'Only the owner of the case or a manager may propose compensation');
    const needsManager = input.amountCents > deps.capCents && !isManager(actor);
    const [comp] = await tx
      .insert(compensations)
      .values({
        complaintId,
        merchantId: c.merchantId,
        customerId: c.customerId,
        conversationId: c.conversationId,
        amountCents: input.amountCents,
        reason: input.reason,
        status: needsManager ? 'proposed' : 'approved',
        proposedByAgentId: actor.id,
        approvedByAgentId: needsManager ? null : actor.id,
        createdAt: now,
      })
      .returning();
    if (!comp) throw new Error('compensation insert returned no row');
    await tx.insert(auditLog).values({
      actorType: 'agent',
      actorId: actor.id,
      action: 'compensation.propose',
      subjectType: 'compensation',
      subjectId: comp.id,
      data: { complaintId, amountCents: input.amountCents, capCents: deps.capCents, needsManager, reason: input.reason },
      createdAt: now,
    });
    if (needsManager) {
      if (c.conversationId) {
        await tx.insert(notifications).values({ audience: 'managers', kind: 'compensation.approval_needed', conversationId: c.conversationId, data: { compensationId: comp.id, amountCents: input.amountCents }, createdAt: now });
      }
      return { id: comp.id, status: 'proposed' as const, conversationId: c.conversationId };
    }
    const status = await pay(deps, tx, comp, actor, now);
    return { id: comp.id, status, conversationId: c.conversationId };
  });
}

/** A manager approves (and pays) or rejects a compensation above the cap. */
export async function decideCompensation(deps: CompensationDeps, actor: StaffActor, id: string, decision: 'approve' | 'reject', now: Date) {
  if (!isManager(actor)) throw new AppError('forbidden', 'Only a manager may approve compensation above the cap');
  return deps.db.transaction(async (tx) => {
    const [comp] = await tx.select().from(compensations).where(eq(compensations.id, id)).for('update');
    if (!comp) throw new AppError('not_found', 'No such compensation');
    if (comp.status !== 'proposed') throw new AppError('conflict', `The compensation is already ${comp.status}`);
    if (decision === 'reject') {
      await tx.update(compensations).set({ status: 'rejected', approvedByAgentId: actor.id, decidedAt: now }).where(eq(compensations.id, id));
      await tx.insert(auditLog).values({ actorType: 'agent', actorId: actor.id, action: 'compensation.reject', subjectType: 'compensation', subjectId: id, data: { amountCents: comp.amountCents }, createdAt: now });
      return { id, status: 'rejected' as const, conversationId: comp.conversationId };
    }
    await tx.update(compensations).set({ status: 'approved', approvedByAgentId: actor.id }).where(eq(compensations.id, id));
    await tx.insert(auditLog).values({ actorType: 'agent', actorId: actor.id, action: 'compensation.approve', subjectType: 'compensation', subjectId: id, data: { amountCents: comp.amountCents }, createdAt: now });
    const status = await pay(deps, tx, { ...comp, status: 'approved' }, actor, now);
    return { id, status, conversationId: comp.conversationId };
  });
}

/** The guarantee fund ledger: payouts per merchant (to recover) or per consumer, with totals. */
export async function compensationLedger(db: Db, filter: { merchantId?: string | undefined; customerId?: string | undefined }) {
  const where: SQL[] = [];
  if (filter.merchantId) where.push(eq(compensations.merchantId, filter.merchantId));
  if (filter.customerId) where.push(eq(compensations.customerId, filter.customerId));
  const rows = await db
    .select({
      id: compensations.id,
      amountCents: compensations.amountCents,
      status: compensations.status,
      reason: compensations.reason,
      createdAt: compensations.createdAt,
      paidAt: compensations.paidAt,
      merchantId: compensations.merchantId,
      merchantName: merchants.name,
      customerId: compensations.customerId,
      customerName: customers.name,
      ticketNumber: complaints.ticketNumber,
    })
    .from(compensations)
    .innerJoin(complaints, eq(complaints.id, compensations.complaintId))
    .innerJoin(customers, eq(customers.id, compensations.customerId))
    .leftJoin(merchants, eq(merchants.id, compensations.merchantId))
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(compensations.createdAt))
    .limit(500);
  const paidCents = rows.filter((r) => r.status === 'paid').reduce((s, r) => s + r.amountCents, 0);
  const pendingCents = rows.filter((r) => r.status === 'proposed').reduce((s, r) => s + r.amountCents, 0);
  return { entries: rows, totals: { paidCents, pendingCents } };
}
