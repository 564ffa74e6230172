import { verify } from '@node-rs/argon2';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { agents, coupons, customers, deals, merchants, orders, refunds } from '../../src/db/schema.js';
import {
  DEMO_ACCOUNTS,
  DEMO_EN_CUSTOMER_ID,
  DEMO_PASSWORD,
  DEMO_SENIOR_CUSTOMER_ID,
  isDatabaseEmpty,
  seedDemoData,
  type SeedSummary,
} from '../../src/db/seed.js';
import { backends, freshDatabase } from '../support/db.js';

const NOW = new Date('2026-11-22T09:00:00Z');
const SEED = 7;

/** Every row of the tables whose content must not depend on anything but seed and now. */
async function snapshot(database: Database): Promise<string> {
  const { db } = database;
  return JSON.stringify({
    merchants: await db.select().from(merchants).orderBy(asc(merchants.id)),
    deals: await db.select().from(deals).orderBy(asc(deals.id)),
    customers: await db.select().from(customers).orderBy(asc(customers.id)),
    orders: await db.select().from(orders).orderBy(asc(orders.id)),
    coupons: await db.select().from(coupons).orderBy(asc(coupons.id)),
    refunds: await db.select().from(refunds).orderBy(asc(refunds.id)),
    agents: await db
      .select({ id: agents.id, email: agents.email, name: agents.name, role: agents.role, createdAt: agents.createdAt })
      .from(agents)
      .orderBy(asc(agents.id)),
  });
}

describe.each(backends())('demo seed (%s)', (backend) => {
  const opened: Database[] = [];
  let a: Database;
  let summary: SeedSummary;
  let seedMs = 0;

  beforeAll(async () => {
    a = await freshDatabase(backend);
    opened.push(a);
    expect(await isDatabaseEmpty(a.db)).toBe(true);
    const started = performance.now();
    summary = await seedDemoData(a.db, { seed: SEED, now: NOW });
    seedMs = performance.now() - started;
  }, 30_000);

  afterAll(async () => {
    for (const database of opened) await database.close();
  });

  it('produces counts in range, quickly', async () => {
    expect(summary.merchants).toBe(12);
    expect(summary.deals).toBeGreaterThanOrEqual(36);
    expect(summary.deals).toBeLessThanOrEqual(45);
    expect(summary.customers).toBe(20);
    expect(summary.orders).toBeGreaterThanOrEqual(280);
    expect(summary.orders).toBeLessThanOrEqual(320);
    expect(summary.agents).toBe(6);
    const db = a.db;
    expect(await db.$count(orders)).toBe(summary.orders);
    expect(await db.$count(coupons)).toBe(summary.coupons);
    expect(await db.$count(refunds)).toBe(summary.refunds);
    expect(summary.coupons).toBeGreaterThan(summary.orders);
    expect(summary.refunds).toBeGreaterThan(0);
    expect(await isDatabaseEmpty(db)).toBe(false);
    expect(seedMs).toBeLessThan(5_000);
  });

  it('refuses to seed a database that is not empty', async () => {
    await expect(seedDemoData(a.db, { seed: SEED, now: NOW })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('covers every coupon state and keeps coupons consistent with orders, deals and refunds', async () => {
    const db = a.db;
    const allCoupons = await db.select().from(coupons);
    const states = new Set(allCoupons.map((c) => c.state));
    expect([...states].sort()).toEqual(['expired', 'refund_pending', 'refunded', 'unused', 'used']);

    const orderRows = await db.select().from(orders);
    const dealRows = await db.select().from(deals);
    const refundRows = await db.select().from(refunds);
    const dealById = new Map(dealRows.map((d) => [d.id, d]));
    const orderById = new Map(orderRows.map((o) => [o.id, o]));
    const refundByCoupon = new Map(refundRows.map((r) => [r.couponId, r]));
    expect(refundByCoupon.size).toBe(refundRows.length);

    for (const o of orderRows) {
      expect(o.orderNumber).toMatch(/^KF\d{8}$/);
      expect(o.quantity).toBeGreaterThanOrEqual(1);
      expect(o.quantity).toBeLessThanOrEqual(4);
      expect(['wechat_pay', 'alipay', 'bank_card']).toContain(o.paymentMethod);
      const deal = dealById.get(o.dealId);
      expect(o.unitPriceCents).toBe(deal?.priceCents);
      expect(o.totalCents).toBe(o.unitPriceCents * o.quantity);
      expect(o.createdAt.getTime()).toBeLessThan(NOW.getTime());
      expect(o.createdAt.getTime()).toBeGreaterThan(NOW.getTime() - 121 * 86_400_000);
      expect(allCoupons.filter((c) => c.orderId === o.id)).toHaveLength(o.quantity);
    }

    for (const c of allCoupons) {
      expect(c.code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
      const order = orderById.get(c.orderId);
      const deal = order && dealById.get(order.dealId);
      expect(deal).toBeDefined();
      expect(c.expiresAt.toISOString()).toBe(new Date(`${deal?.validTo}T23:59:59+08:00`).toISOString());
      expect(c.usedAt !== null).toBe(c.state === 'used');
      if (c.usedAt) {
        expect(c.usedAt.getTime()).toBeGreaterThan(order?.createdAt.getTime() ?? Infinity);
        expect(c.usedAt.getTime()).toBeLessThan(Math.min(NOW.getTime(), c.expiresAt.getTime()));
      }
      if (c.state === 'expired') expect(c.expiresAt.getTime()).toBeLessThan(NOW.getTime());
      if (c.state === 'unused' || c.state === 'refund_pending') expect(c.expiresAt.getTime()).toBeGreaterThan(NOW.getTime());
      const refund = refundByCoupon.get(c.id);
      if (c.state === 'refunded' || c.state === 'refund_pending') {
        expect(refund?.status).toBe(c.state === 'refunded' ? 'paid' : 'pending_review');
        expect(refund?.amountCents).toBe(order?.unitPriceCents);
        expect(refund?.orderId).toBe(order?.id);
        expect(refund?.customerId).toBe(order?.customerId);
        if (refund?.policy === 'refund_anytime') expect(deal?.refundAnytime).toBe(true);
        if (refund?.policy === 'refund_on_expiry') expect(deal?.refundOnExpiry).toBe(true);
        if (refund?.status === 'paid') expect(refund.expectedBy?.getTime()).toBeLessThanOrEqual(NOW.getTime());
      } else {
        expect(refund).toBeUndefined();
      }
    }
  });

  it('has a varied catalogue with exactly one warned merchant', async () => {
    const db = a.db;
    const merchantRows = await db.select().from(merchants);
    const warned = merchantRows.filter((m) => m.status === 'warned');
    expect(warned).toHaveLength(1);
    expect(warned[0]?.statusReason).toBeTruthy();
    expect(warned[0]?.complaintCount).toBeGreaterThan(0);
    expect(new Set(merchantRows.map((m) => m.category)).size).toBeGreaterThanOrEqual(5);

    const dealRows = await db.select().from(deals);
    for (const d of dealRows) {
      expect(d.priceCents).toBeLessThan(d.originalPriceCents);
      expect(d.included.length).toBeGreaterThan(0);
      for (const item of d.included) expect(item.quantity).toBeGreaterThan(0);
      expect(d.validFrom < d.validTo).toBe(true);
      expect(d.validFrom).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(d.hoursFrom < d.hoursTo).toBe(true);
      expect(d.weekdays.every((w) => w >= 1 && w <= 7)).toBe(true);
    }
    const terms = new Set(dealRows.map((d) => `${d.refundAnytime}/${d.refundOnExpiry}`));
    expect([...terms].sort()).toEqual(['false/false', 'false/true', 'true/false', 'true/true']);

    const customerRows = await db.select().from(customers);
    expect(customerRows.filter((c) => c.locale === 'zh-Hant')).toHaveLength(2);
    expect(customerRows.filter((c) => c.locale === 'en')).toHaveLength(3);
    expect(new Set(customerRows.map((c) => c.phone)).size).toBe(customerRows.length);
    for (const c of customerRows) expect(c.phone).toMatch(/^138\d{8}$/);
  });

  it('gives the demo senior and the English demo customer their scenarios', async () => {
    const db = a.db;
    const [senior] = await db.select().from(customers).where(eq(customers.id, DEMO_SENIOR_CUSTOMER_ID));
    expect(senior).toMatchObject({ name: '王秀兰', birthYear: 1958, firstTimeUser: true, phone: '13800000001', locale: 'zh-Hans' });
    const [emily] = await db.select().from(customers).where(eq(customers.id, DEMO_EN_CUSTOMER_ID));
    expect(emily).toMatchObject({ name: 'Emily Chen', phone: '13800000002', locale: 'en' });

    const couponsOf = (customerId: string) =>
      db
        .select({ coupon: coupons, deal: deals, order: orders })
        .from(coupons)
        .innerJoin(orders, eq(orders.id, coupons.orderId))
        .innerJoin(deals, eq(deals.id, orders.dealId))
        .where(eq(orders.customerId, customerId));

    const seniorCoupons = await couponsOf(DEMO_SENIOR_CUSTOMER_ID);
    expect(new Set(seniorCoupons.map((r) => r.order.id)).size).toBeGreaterThanOrEqual(3);
    expect(seniorCoupons.some((r) => r.coupon.state === 'unused' && r.deal.refundAnytime)).toBe(true);
    expect(seniorCoupons.some((r) => r.coupon.state === 'used' && r.coupon.usedAt !== null)).toBe(true);
    expect(
      seniorCoupons.some(
        (r) =>
          r.coupon.state === 'expired' &&
          !r.deal.refundAnytime &&
          !r.deal.refundOnExpiry &&
          r.coupon.expiresAt.getTime() < NOW.getTime(),
      ),
    ).toBe(true);
    for (const r of seniorCoupons) expect(r.order.createdAt.getTime()).toBeGreaterThan(senior?.createdAt.getTime() ?? Infinity);

    const emilyCoupons = await couponsOf(DEMO_EN_CUSTOMER_ID);
    expect(emilyCoupons.some((r) => r.coupon.state === 'unused' && r.deal.refundAnytime)).toBe(true);
  });

  it('creates the five demo accounts with the demo password', async () => {
    const rows = await a.db.select().from(agents);
    expect(rows.map((r) => r.email).sort()).toEqual(DEMO_ACCOUNTS.map((d) => d.email).sort());
    for (const account of DEMO_ACCOUNTS) {
      const row = rows.find((r) => r.email === account.email);
      expect(row?.role).toBe(account.role);
      expect(row?.active).toBe(true);
    }
    const first = rows[0];
    expect(first && (await verify(first.passwordHash, DEMO_PASSWORD))).toBe(true);
    expect(first && (await verify(first.passwordHash, 'wrong-password'))).toBe(false);
    expect(new Set(rows.map((r) => r.passwordHash)).size).toBe(1);
  });

  it('is deterministic: the same seed and now give identical rows', async () => {
    const b = await freshDatabase(backend);
    opened.push(b);
    await seedDemoData(b.db, { seed: SEED, now: NOW });
    expect(await snapshot(b)).toBe(await snapshot(a));

    const c = await freshDatabase(backend);
    opened.push(c);
    await seedDemoData(c.db, { seed: SEED + 1, now: NOW });
    expect(await snapshot(c)).not.toBe(await snapshot(a));
  }, 30_000);
});
