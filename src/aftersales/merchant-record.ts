import { and, desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import type { Db } from '../db/client.js';
import { auditLog, merchants } from '../db/schema.js';
import { rowsOf } from '../db/client.js';
import { isManager, type StaffActor } from './decisions.js';

export const MerchantAction = z.object({ action: z.enum(['warn', 'suspend', 'reinstate']), reason: z.string().trim().min(1).max(1000) }).strict();
export type MerchantAction = z.infer<typeof MerchantAction>;

const NEXT = { warn: 'warned', suspend: 'suspended', reinstate: 'active' } as const;

/**
 * A manager warns, suspends or reinstates a merchant, with a reason, audited. A suspended
 * merchant's unused coupons are refunded at once by the bot (src/actions/refund-policy.ts).
 */
export async function setMerchantStatus(db: Db, actor: StaffActor, merchantId: string, input: MerchantAction, now: Date) {
  if (!isManager(actor)) throw new AppError('forbidden', 'Only a manager may warn, suspend or reinstate a merchant');
  return db.transaction(async (tx) => {
    const [m] = await tx.select().from(merchants).where(eq(merchants.id, merchantId)).for('update');
    if (!m) throw new AppError('not_found', 'No such merchant');
    const to = NEXT[input.action];
    if (input.action === 'reinstate' && m.status === 'active') throw new AppError('conflict', 'The merchant is already active');
    await tx.update(merchants).set({ status: to, statusReason: input.reason }).where(eq(merchants.id, merchantId));
    await tx.insert(auditLog).values({
      actorType: 'agent',
      actorId: actor.id,
      action: `merchant.${input.action}`,
      subjectType: 'merchant',
      subjectId: merchantId,
      data: { from: m.status, to, reason: input.reason },
      createdAt: now,
    });
    return { id: merchantId, status: to };
  });
}

const Stat = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['active', 'warned', 'suspended']),
  status_reason: z.string().nullable(),
  orders: z.coerce.number(),
  complaints: z.coerce.number(),
  decided: z.coerce.number(),
  open: z.coerce.number(),
  notified: z.coerce.number(),
  on_time: z.coerce.number(),
  missed: z.coerce.number(),
  payouts_cents: z.coerce.number(),
});

/** Each merchant's record for managers: complaint incidence, resolution rate, open complaints, punctuality, payouts. */
export async function merchantRecords(db: Db, merchantId?: string) {
  const result = await db.execute(sql`
    select m.id, m.name, m.status, m.status_reason,
      (select count(*) from orders o join deals d on d.id = o.deal_id where d.merchant_id = m.id) as orders,
      (select count(*) from complaints c where c.merchant_id = m.id) as complaints,
      (select count(*) from complaints c where c.merchant_id = m.id and (c.decided_at is not null or c.status in ('resolved', 'rejected'))) as decided,
      (select count(*) from complaints c where c.merchant_id = m.id and c.decided_at is null and c.status in ('open', 'merchant_notified')) as open,
      (select count(*) from complaints c where c.merchant_id = m.id and c.merchant_notified_at is not null
         and (c.merchant_responded_at is not null or c.merchant_missed_at is not null)) as notified,
      (select count(*) from complaints c where c.merchant_id = m.id and c.merchant_responded_at is not null and c.merchant_responded_at <= c.merchant_due_at) as on_time,
      (select count(*) from complaints c where c.merchant_id = m.id and c.merchant_missed_at is not null) as missed,
      (select coalesce(sum(p.amount_cents), 0) from compensations p where p.merchant_id = m.id and p.status = 'paid') as payouts_cents
    from merchants m
    ${merchantId ? sql`where m.id = ${merchantId}` : sql``}
    order by m.name`);
  return rowsOf<unknown>(result).map((r) => {
    const s = Stat.parse(r);
    return {
      id: s.id,
      name: s.name,
      status: s.status,
      statusReason: s.status_reason,
      orders: s.orders,
      complaints: s.complaints,
      incidence: s.orders > 0 ? s.complaints / s.orders : null,
      resolutionRate: s.complaints > 0 ? s.decided / s.complaints : null,
      openComplaints: s.open,
      punctuality: s.notified > 0 ? s.on_time / s.notified : null,
      missedDeadlines: s.missed,
      payoutsCents: s.payouts_cents,
    };
  });
}
export type MerchantRecord = Awaited<ReturnType<typeof merchantRecords>>[number];

const Month = z.object({ month: z.string(), orders: z.coerce.number(), complaints: z.coerce.number(), decided: z.coerce.number() });

/** One merchant's complaints and orders per month (China time), the last `months` months. */
export async function merchantMonthly(db: Db, merchantId: string, now: Date, months = 6) {
  const from = new Date(now.getTime() - months * 31 * 86_400_000);
  const result = await db.execute(sql`
    with o as (select to_char(o.created_at at time zone 'Asia/Shanghai', 'YYYY-MM') as month, count(*) as n
               from orders o join deals d on d.id = o.deal_id where d.merchant_id = ${merchantId} and o.created_at >= ${from.toISOString()}::timestamptz group by 1),
         c as (select to_char(c.created_at at time zone 'Asia/Shanghai', 'YYYY-MM') as month, count(*) as n,
                      count(*) filter (where c.decided_at is not null or c.status in ('resolved', 'rejected')) as decided
               from complaints c where c.merchant_id = ${merchantId} and c.created_at >= ${from.toISOString()}::timestamptz group by 1)
    select coalesce(o.month, c.month) as month, coalesce(o.n, 0) as orders, coalesce(c.n, 0) as complaints, coalesce(c.decided, 0) as decided
    from o full join c on c.month = o.month order by 1`);
  return rowsOf<unknown>(result).map((r) => {
    const m = Month.parse(r);
    return { ...m, incidence: m.orders > 0 ? m.complaints / m.orders : null, resolutionRate: m.complaints > 0 ? m.decided / m.complaints : null };
  });
}

/** The audited warn / suspend / reinstate history of a merchant, newest first. */
export async function merchantHistory(db: Db, merchantId: string) {
  return db
    .select({ action: auditLog.action, actorId: auditLog.actorId, data: auditLog.data, createdAt: auditLog.createdAt })
    .from(auditLog)
    .where(and(eq(auditLog.subjectType, 'merchant'), eq(auditLog.subjectId, merchantId)))
    .orderBy(desc(auditLog.createdAt))
    .limit(100);
}
