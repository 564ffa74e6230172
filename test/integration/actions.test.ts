import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDbOrderSource } from '../../src/actions/db-order-source.js';
import { createDbRefundGateway } from '../../src/actions/db-refund-gateway.js';
import { createActionRegistry } from '../../src/actions/index.js';
import type { RefundGateway } from '../../src/actions/ports.js';
import type { ActionRegistry } from '../../src/actions/registry.js';
import { FakeClock } from '../../src/core/ports.js';
import type { Database, Tx } from '../../src/db/client.js';
import {
  auditLog,
  channelIdentities,
  complaints,
  conversations,
  coupons,
  customers,
  deals,
  merchants,
  orders,
  refunds,
} from '../../src/db/schema.js';
import { DEMO_EN_CUSTOMER_ID, DEMO_SENIOR_CUSTOMER_ID, seedDemoData } from '../../src/db/seed.js';
import { silentLogger } from '../../src/logger.js';
import { backends, freshDatabase } from '../support/db.js';

const NOW = new Date('2026-11-22T09:00:00Z'); // a Sunday, 17:00 in China
const DAY = 86_400_000;

type Result = { outcome: string; data: any };

describe.each(backends())('domain actions (%s)', (backend) => {
  let database: Database;
  let registry: ActionRegistry;
  const gateway = createDbRefundGateway();
  const conversationOf = new Map<string, string>();
  let merchantId: string;
  const dealIds: Record<'anytime' | 'onExpiry' | 'none' | 'big', string> = { anytime: '', onExpiry: '', none: '', big: '' };
  let testCustomer: string;
  let orderSeq = 0;

  async function conversationFor(customerId: string): Promise<string> {
    const known = conversationOf.get(customerId);
    if (known) return known;
    const [identity] = await database.db
      .insert(channelIdentities)
      .values({ customerId, channel: 'webchat', externalId: `actions-test-${customerId}` })
      .returning();
    const [conversation] = await database.db
      .insert(conversations)
      .values({ customerId, channelIdentityId: identity!.id, channel: 'webchat', replyToken: randomUUID() })
      .returning();
    conversationOf.set(customerId, conversation!.id);
    return conversation!.id;
  }

  async function act(name: string, input: unknown, customerId: string, reg: ActionRegistry = registry): Promise<Result> {
    const def = reg.get(name);
    if (!def) throw new Error(`no action ${name}`);
    const conversationId = await conversationFor(customerId);
    return database.db.transaction((tx) =>
      def.run({ tx, now: NOW, clock: new FakeClock(NOW), customerId, conversationId, locale: 'zh-Hans' }, def.input.parse(input)),
    );
  }

  /** An order of `deal` for `customerId` with one coupon per state. */
  async function makeOrder(
    customerId: string,
    dealKey: keyof typeof dealIds,
    states: ('unused' | 'used' | 'expired')[],
    opts: { expiresAt?: Date; paymentMethod?: string } = {},
  ) {
    const [deal] = await database.db.select().from(deals).where(eq(deals.id, dealIds[dealKey]));
    orderSeq += 1;
    const orderNumber = `KT${String(90_000_000 + orderSeq)}`;
    const [order] = await database.db
      .insert(orders)
      .values({
        orderNumber,
        customerId,
        dealId: deal!.id,
        quantity: states.length,
        unitPriceCents: deal!.priceCents,
        totalCents: deal!.priceCents * states.length,
        paymentMethod: opts.paymentMethod ?? 'wechat_pay',
        createdAt: new Date(NOW.getTime() - 2 * DAY),
      })
      .returning();
    const rows = await database.db
      .insert(coupons)
      .values(
        states.map((state, i) => ({
          orderId: order!.id,
          code: `TST${String(orderSeq).padStart(2, '0')}-${String(i).padStart(4, '0')}-TEST`,
          state,
          usedAt: state === 'used' ? new Date(NOW.getTime() - DAY) : null,
          expiresAt: opts.expiresAt ?? new Date(NOW.getTime() + 30 * DAY),
        })),
      )
      .returning();
    rows.sort((a, b) => a.code.localeCompare(b.code));
    return { orderId: order!.id, orderNumber, couponIds: rows.map((r) => r.id), codes: rows.map((r) => r.code) };
  }

  async function ordersOf(customerId: string) {
    return database.db
      .select({ order: orders, deal: deals })
      .from(orders)
      .innerJoin(deals, eq(deals.id, orders.dealId))
      .where(eq(orders.customerId, customerId));
  }

  async function refundRowsOf(couponIds: string[]) {
    return database.db.select().from(refunds).where(inArray(refunds.couponId, couponIds));
  }

  beforeAll(async () => {
    database = await freshDatabase(backend);
    await seedDemoData(database.db, { now: NOW });
    registry = createActionRegistry({ orders: createDbOrderSource(), refunds: gateway, logger: silentLogger });
    const [m] = await database.db
      .insert(merchants)
      .values({ name: '测试小馆', category: 'restaurant', city: '上海', address: '上海市测试路1号', phone: '021-0000 0000' })
      .returning();
    merchantId = m!.id;
    const base = {
      merchantId,
      category: 'restaurant',
      included: [{ item: '测试套餐', quantity: 1 }],
      validFrom: '2026-01-01',
      validTo: '2027-01-01',
      weekdays: [1, 2, 3, 4, 5, 6, 7],
      hoursFrom: '10:00',
      hoursTo: '22:00',
      reservationRequired: false,
      usageNotes: '测试用。',
    };
    const specs = {
      anytime: { title: '随时退套餐', priceCents: 5000, originalPriceCents: 8000, refundAnytime: true, refundOnExpiry: true },
      onExpiry: { title: '过期退套餐', priceCents: 6000, originalPriceCents: 9000, refundAnytime: false, refundOnExpiry: true },
      none: { title: '不退套餐', priceCents: 3000, originalPriceCents: 5000, refundAnytime: false, refundOnExpiry: false },
      big: { title: '豪华套餐', priceCents: 60_000, originalPriceCents: 90_000, refundAnytime: true, refundOnExpiry: true },
    } as const;
    for (const key of Object.keys(specs) as (keyof typeof specs)[]) {
      const [d] = await database.db.insert(deals).values({ ...base, ...specs[key] }).returning();
      dealIds[key] = d!.id;
    }
    const [c] = await database.db.insert(customers).values({ name: 'Test Tan', phone: '13900000099', locale: 'en' }).returning();
    testCustomer = c!.id;
  }, 60_000);

  afterAll(async () => {
    await database?.close();
  });

  describe('orders and deal terms', () => {
    it('lists the consumer’s recent orders, newest first, with coupons and plain-word data', async () => {
      const res = await act('orders.recent', {}, DEMO_SENIOR_CUSTOMER_ID);
      expect(res.outcome).toBe('found');
      const items = res.data.orders;
      expect(items).toHaveLength(3);
      expect(items[0].title).toBe('双人纪念日晚宴套餐');
      expect(items[0].merchantName).toBe('金玉满堂粤菜酒家');
      expect(items[0].total).toEqual({ cents: 39800, yuan: '398.00', text: '¥398.00' });
      expect(items[0].couponSummary).toMatchObject({ total: 1, unused: 1 });
      expect(items[0].coupons[0].code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
      expect(items[1].couponSummary).toMatchObject({ total: 2, used: 2 });
      const created = items.map((o: { orderedOn: string }) => o.orderedOn);
      expect([...created].sort().reverse()).toEqual(created);
    });

    it('answers none for a consumer without orders', async () => {
      const [c] = await database.db.insert(customers).values({ name: 'Nobody', phone: '13900000098' }).returning();
      expect((await act('orders.recent', { limit: 3 }, c!.id)).outcome).toBe('none');
    });

    it('finds an own order by number or by a coupon code typed loosely, never someone else’s', async () => {
      const [own] = (await ordersOf(DEMO_SENIOR_CUSTOMER_ID)).filter((r) => r.deal.title === '双人纪念日晚宴套餐');
      const byNumber = await act('orders.find', { query: ` ${own!.order.orderNumber.toLowerCase()} ` }, DEMO_SENIOR_CUSTOMER_ID);
      expect(byNumber.outcome).toBe('found');
      expect(byNumber.data.order.id).toBe(own!.order.id);
      const code = byNumber.data.order.coupons[0].code as string;
      const byCode = await act('orders.find', { query: code.replaceAll('-', ' ').toLowerCase() }, DEMO_SENIOR_CUSTOMER_ID);
      expect(byCode.data.order.orderNumber).toBe(own!.order.orderNumber);

      const [emilys] = await ordersOf(DEMO_EN_CUSTOMER_ID);
      const other = await act('orders.find', { query: emilys!.order.orderNumber }, DEMO_SENIOR_CUSTOMER_ID);
      expect(other).toEqual({ outcome: 'not_found', data: { query: emilys!.order.orderNumber } });
      const [emilyCoupon] = await database.db.select().from(coupons).where(eq(coupons.orderId, emilys!.order.id));
      expect((await act('orders.find', { query: emilyCoupon!.code }, DEMO_SENIOR_CUSTOMER_ID)).outcome).toBe('not_found');
    });

    it('tells the deal terms word for word from the deal record', async () => {
      const [own] = (await ordersOf(DEMO_SENIOR_CUSTOMER_ID)).filter((r) => r.deal.title === '双人纪念日晚宴套餐');
      const res = await act('deal.terms', { order: own!.order.orderNumber }, DEMO_SENIOR_CUSTOMER_ID);
      expect(res.outcome).toBe('found');
      const deal = own!.deal;
      expect(res.data.deal).toMatchObject({
        title: deal.title,
        included: deal.included,
        validFrom: deal.validFrom,
        validTo: deal.validTo,
        weekdays: deal.weekdays,
        everyDay: true,
        hoursFrom: deal.hoursFrom,
        hoursTo: deal.hoursTo,
        reservationRequired: true,
        usageNotes: deal.usageNotes,
        price: { cents: 39800, text: '¥398.00' },
        originalPrice: { cents: 58800, text: '¥588.00' },
        refundTerms: 'refund_anytime_and_on_expiry',
        merchantName: '金玉满堂粤菜酒家',
        merchantAddress: '上海市静安区南京西路1266号3楼',
      });
      expect(res.data.deal.usageNotes).toContain('请至少提前1天致电预约');
      expect((await act('deal.terms', { dealId: deal.id }, DEMO_EN_CUSTOMER_ID)).data.deal.title).toBe(deal.title);
      expect((await act('deal.terms', { dealId: randomUUID() }, DEMO_SENIOR_CUSTOMER_ID)).outcome).toBe('not_found');
      const [emilys] = await ordersOf(DEMO_EN_CUSTOMER_ID);
      expect((await act('deal.terms', { order: emilys!.order.id }, DEMO_SENIOR_CUSTOMER_ID)).outcome).toBe('not_found');
    });
  });

  describe('refunds', () => {
    it('refunds an unused coupon of a refund-anytime deal at once, with amount and arrival, exactly once', async () => {
      const [own] = (await ordersOf(DEMO_SENIOR_CUSTOMER_ID)).filter((r) => r.deal.title === '双人纪念日晚宴套餐');
      const check = await act('refund.check', { order: own!.order.id }, DEMO_SENIOR_CUSTOMER_ID);
      expect(check.outcome).toBe('eligible');
      expect(check.data.amount).toEqual({ cents: 39800, yuan: '398.00', text: '¥398.00' });
      expect(check.data.coupons[0]).toMatchObject({ eligible: true, rule: 'refund_anytime' });
      // Sunday 17:00 China time + 3 working days = Wednesday.
      expect(check.data.arrival).toEqual({ minWorkingDays: 1, maxWorkingDays: 3, byDate: '2026-11-25', paymentMethod: 'wechat_pay' });

      const callsBefore = gateway.calls;
      const res = await act('refund.submit', { order: own!.order.orderNumber, reason: '计划有变' }, DEMO_SENIOR_CUSTOMER_ID);
      expect(res.outcome).toBe('refunded');
      expect(res.data.amount.text).toBe('¥398.00');
      expect(res.data.arrival.byDate).toBe('2026-11-25');
      expect(res.data.refunded).toHaveLength(1);
      expect(gateway.calls).toBe(callsBefore + 1);

      const [coupon] = await database.db.select().from(coupons).where(eq(coupons.orderId, own!.order.id));
      expect(coupon!.state).toBe('refunded');
      const [row] = await refundRowsOf([coupon!.id]);
      expect(row).toMatchObject({ status: 'approved', policy: 'refund_anytime', amountCents: 39800, reason: '计划有变', customerId: DEMO_SENIOR_CUSTOMER_ID });
      expect(row!.expectedBy?.toISOString()).toBe('2026-11-25T09:00:00.000Z');
      const audit = await database.db.select().from(auditLog).where(and(eq(auditLog.action, 'refund.approve'), eq(auditLog.subjectId, row!.id)));
      expect(audit).toHaveLength(1);
      expect(audit[0]!.data).toMatchObject({ couponId: coupon!.id, amountCents: 39800, policy: 'refund_anytime' });

      const again = await act('refund.submit', { order: own!.order.id }, DEMO_SENIOR_CUSTOMER_ID);
      expect(again.outcome).toBe('already_refunded');
      expect(gateway.calls).toBe(callsBefore + 1);
      expect((await act('refund.check', { order: own!.order.id }, DEMO_SENIOR_CUSTOMER_ID)).outcome).toBe('already_refunded');
    });

    it('never refunds a used coupon: the consumer is sent to the complaint path', async () => {
      const [used] = (await ordersOf(DEMO_SENIOR_CUSTOMER_ID)).filter((r) => r.order.quantity === 2);
      const check = await act('refund.check', { order: used!.order.id }, DEMO_SENIOR_CUSTOMER_ID);
      expect(check.outcome).toBe('used');
      expect(check.data).toMatchObject({ nextStep: 'complaint', offerPerson: true, eligibleCount: 0 });
      const submit = await act('refund.submit', { order: used!.order.id }, DEMO_SENIOR_CUSTOMER_ID);
      expect(submit.outcome).toBe('ineligible');
      expect(submit.data.reason).toBe('used');
      const couponRows = await database.db.select().from(coupons).where(eq(coupons.orderId, used!.order.id));
      expect(await refundRowsOf(couponRows.map((c) => c.id))).toHaveLength(0);
      expect(couponRows.every((c) => c.state === 'used')).toBe(true);
    });

    it('explains the terms and offers a person for a coupon of a deal without refund terms', async () => {
      const [expired] = (await ordersOf(DEMO_SENIOR_CUSTOMER_ID)).filter((r) => !r.deal.refundAnytime && !r.deal.refundOnExpiry);
      const check = await act('refund.check', { order: expired!.order.id }, DEMO_SENIOR_CUSTOMER_ID);
      expect(check.outcome).toBe('no_refund_terms');
      expect(check.data).toMatchObject({ refundTerms: 'no_refund', nextStep: 'explain_terms', offerPerson: true });
      const fresh = await makeOrder(testCustomer, 'none', ['unused']);
      expect((await act('refund.check', { order: fresh.orderId }, testCustomer)).outcome).toBe('no_refund_terms');
      expect((await act('refund.submit', { order: fresh.orderId }, testCustomer)).data.reason).toBe('no_refund_terms');
      expect(await refundRowsOf(fresh.couponIds)).toHaveLength(0);
    });

    it('refunds an expired unused coupon of a refund-on-expiry deal, and not one that has not expired yet', async () => {
      const waiting = await makeOrder(testCustomer, 'onExpiry', ['unused']);
      const early = await act('refund.check', { order: waiting.orderNumber }, testCustomer);
      expect(early.outcome).toBe('not_expired_yet');
      expect(early.data.nextStep).toBe('wait_for_expiry');
      expect((await act('refund.submit', { order: waiting.orderNumber }, testCustomer)).outcome).toBe('ineligible');

      const expired = await makeOrder(testCustomer, 'onExpiry', ['expired'], { expiresAt: new Date(NOW.getTime() - DAY), paymentMethod: 'bank_card' });
      const check = await act('refund.check', { order: expired.orderNumber }, testCustomer);
      expect(check.outcome).toBe('eligible');
      expect(check.data.coupons[0].rule).toBe('refund_on_expiry');
      const res = await act('refund.submit', { order: expired.orderNumber }, testCustomer);
      expect(res.outcome).toBe('refunded');
      expect(res.data.amount.text).toBe('¥60.00');
      expect(res.data.arrival).toMatchObject({ minWorkingDays: 3, maxWorkingDays: 7, paymentMethod: 'bank_card' });
      const [row] = await refundRowsOf(expired.couponIds);
      expect(row).toMatchObject({ status: 'approved', policy: 'refund_on_expiry' });
    });

    it('answers not_found for someone else’s order or coupon and changes nothing', async () => {
      const [emilys] = (await ordersOf(DEMO_EN_CUSTOMER_ID)).filter((r) => r.order.quantity === 2);
      const emilyCoupons = await database.db.select().from(coupons).where(eq(coupons.orderId, emilys!.order.id));
      const before = await refundRowsOf(emilyCoupons.map((c) => c.id));
      expect(await act('refund.check', { order: emilys!.order.id }, DEMO_SENIOR_CUSTOMER_ID)).toEqual({ outcome: 'not_found', data: {} });
      expect(await act('refund.submit', { order: emilyCoupons[0]!.code }, DEMO_SENIOR_CUSTOMER_ID)).toEqual({ outcome: 'not_found', data: {} });
      const [seniorOrder] = await ordersOf(DEMO_SENIOR_CUSTOMER_ID);
      const mixed = await act('refund.submit', { order: seniorOrder!.order.id, coupons: [emilyCoupons[0]!.id] }, DEMO_SENIOR_CUSTOMER_ID);
      expect(mixed.outcome).toBe('not_found');
      expect(await refundRowsOf(emilyCoupons.map((c) => c.id))).toEqual(before);
    });

    it('refunds part of a multi-coupon order, coupon by coupon', async () => {
      const [emilys] = (await ordersOf(DEMO_EN_CUSTOMER_ID)).filter((r) => r.order.quantity === 2);
      const check = await act('refund.check', { order: emilys!.order.orderNumber }, DEMO_EN_CUSTOMER_ID);
      expect(check.outcome).toBe('partially_eligible');
      expect(check.data.eligibleCount).toBe(1);
      expect(check.data.coupons.map((c: { reason: string | null }) => c.reason).sort()).toEqual(['already_refunded', null].sort());
      const res = await act('refund.submit', { order: emilys!.order.orderNumber }, DEMO_EN_CUSTOMER_ID);
      expect(res.outcome).toBe('refunded');
      expect(res.data.refunded).toHaveLength(1);
      expect(res.data.skipped).toEqual([expect.objectContaining({ reason: 'already_refunded' })]);

      const three = await makeOrder(testCustomer, 'anytime', ['unused', 'unused', 'unused']);
      const one = await act('refund.submit', { order: three.orderId, coupons: [three.codes[1]!.toLowerCase()] }, testCustomer);
      expect(one.outcome).toBe('refunded');
      expect(one.data.amount).toEqual({ cents: 5000, yuan: '50.00', text: '¥50.00' });
      const states = await database.db.select({ id: coupons.id, state: coupons.state }).from(coupons).where(eq(coupons.orderId, three.orderId));
      expect(states.filter((s) => s.state === 'refunded').map((s) => s.id)).toEqual([three.couponIds[1]]);
      const rest = await act('refund.check', { order: three.orderId }, testCustomer);
      expect(rest.outcome).toBe('partially_eligible');
      expect(rest.data.amount.text).toBe('¥100.00');
      expect(rest.data.eligibleCouponIds.sort()).toEqual([three.couponIds[0], three.couponIds[2]].sort());
    });

    it('sends a large amount to agent review instead of paying it', async () => {
      const big = await makeOrder(testCustomer, 'big', ['unused']);
      const check = await act('refund.check', { order: big.orderId }, testCustomer);
      expect(check.outcome).toBe('review');
      expect(check.data).toMatchObject({ reviewReason: 'large_amount', nextStep: 'agent_review', humanPromise: { firstResponseHours: 1, resolutionHours: 24 } });
      const calls = gateway.calls;
      const res = await act('refund.submit', { order: big.orderId }, testCustomer);
      expect(res.outcome).toBe('pending_review');
      expect(res.data.pendingAmount.text).toBe('¥600.00');
      expect(res.data.reviewReason).toBe('large_amount');
      expect(gateway.calls).toBe(calls);
      const [row] = await refundRowsOf(big.couponIds);
      expect(row).toMatchObject({ status: 'pending_review', policy: 'review:large_amount', expectedBy: null });
      const [coupon] = await database.db.select().from(coupons).where(eq(coupons.id, big.couponIds[0]!));
      expect(coupon!.state).toBe('refund_pending');
      const audit = await database.db.select().from(auditLog).where(and(eq(auditLog.action, 'refund.review_requested'), eq(auditLog.subjectId, row!.id)));
      expect(audit).toHaveLength(1);
    });

    it('sends the refund of a consumer with many recent refunds to agent review', async () => {
      const [zhang] = await database.db.select().from(customers).where(eq(customers.name, '张伟'));
      const fresh = await makeOrder(zhang!.id, 'anytime', ['unused']);
      const check = await act('refund.check', { order: fresh.orderId }, zhang!.id);
      expect(check.outcome).toBe('review');
      expect(check.data.reviewReason).toBe('frequent_refunds');
      const res = await act('refund.submit', { order: fresh.orderId }, zhang!.id);
      expect(res.outcome).toBe('pending_review');
      expect((await refundRowsOf(fresh.couponIds))[0]).toMatchObject({ status: 'pending_review', policy: 'review:frequent_refunds' });
    });

    it('hands an approved refund to a person when the payment gateway fails', async () => {
      const failing: RefundGateway = { submitRefund: async () => ({ status: 'failed', failure: 'unreachable', message: 'timeout' }) };
      const reg = createActionRegistry({ orders: createDbOrderSource(), refunds: failing, logger: silentLogger });
      // A customer without earlier refunds, so only the gateway can send it to review.
      const [fresh] = await database.db.insert(customers).values({ name: 'Gateway Gu', phone: '13900000096' }).returning();
      const order = await makeOrder(fresh!.id, 'anytime', ['unused']);
      const res = await act('refund.submit', { order: order.orderId }, fresh!.id, reg);
      expect(res.outcome).toBe('pending_review');
      expect(res.data.reviewReason).toBe('gateway_failed');
      expect((await refundRowsOf(order.couponIds))[0]).toMatchObject({ status: 'pending_review', policy: 'review:gateway_failed' });
      const [coupon] = await database.db.select().from(coupons).where(eq(coupons.id, order.couponIds[0]!));
      expect(coupon!.state).toBe('refund_pending');
    });

    it('refunds a coupon at most once under 50 concurrent submissions', async () => {
      const [c] = await database.db.insert(customers).values({ name: 'Racer', phone: '13900000097' }).returning();
      const order = await makeOrder(c!.id, 'anytime', ['unused']);
      await conversationFor(c!.id);
      const calls = gateway.calls;
      const results = await Promise.all(Array.from({ length: 50 }, () => act('refund.submit', { order: order.orderId }, c!.id)));
      const outcomes = results.map((r) => r.outcome);
      expect(outcomes.filter((o) => o === 'refunded')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'already_refunded')).toHaveLength(49);
      expect(await refundRowsOf(order.couponIds)).toHaveLength(1);
      expect(gateway.calls).toBe(calls + 1);
      const audit = await database.db.select().from(auditLog).where(eq(auditLog.action, 'refund.approve'));
      expect(audit.filter((a) => a.data.couponId === order.couponIds[0])).toHaveLength(1);
    }, 60_000);
  });

  describe('complaints', () => {
    it('opens complaints with unique C ticket numbers, counts them against the merchant, audits them', async () => {
      const [before] = await database.db.select().from(merchants).where(eq(merchants.id, merchantId));
      const order = await makeOrder(testCustomer, 'none', ['used']);
      const first = await act(
        'complaint.open',
        {
          category: 'worse_treatment',
          order: order.orderNumber,
          description: '用团购券的被安排在角落，还要加收餐位费。我的电话 13912345678',
          occurredAt: '昨天晚上',
          wantedOutcome: 'compensation',
          attachments: [{ kind: 'image', filename: 'receipt.jpg', contentType: 'image/jpeg', size: 1200, ref: 'file-1' }],
        },
        testCustomer,
      );
      expect(first.outcome).toBe('opened');
      expect(first.data).toMatchObject({
        ticketNumber: 'C20261122-0001',
        merchantName: '测试小馆',
        humanPromise: { firstResponseHours: 1, resolutionHours: 24 },
        attachmentCount: 1,
        firstResponseBy: '2026-11-22T10:00:00.000Z',
        resolutionBy: '2026-11-23T09:00:00.000Z',
      });
      const second = await act('complaint.open', { category: 'staff_attitude', merchantId, description: '服务员态度差', wantedOutcome: 'apology' }, DEMO_EN_CUSTOMER_ID);
      expect(second.data.ticketNumber).toBe('C20261122-0002');

      const [after] = await database.db.select().from(merchants).where(eq(merchants.id, merchantId));
      expect(after!.complaintCount).toBe(before!.complaintCount + 2);
      const [row] = await database.db.select().from(complaints).where(eq(complaints.ticketNumber, 'C20261122-0001'));
      expect(row).toMatchObject({ category: 'worse_treatment', orderId: order.orderId, merchantId, wantedOutcome: 'compensation', occurredAt: '昨天晚上' });
      expect(row!.description).not.toContain('13912345678');
      expect(row!.description).toContain('5678');
      const audit = await database.db.select().from(auditLog).where(eq(auditLog.action, 'complaint.open'));
      expect(audit.map((a) => a.data.ticketNumber).sort()).toEqual(['C20261122-0001', 'C20261122-0002']);
    });

    it('leaves the merchant counter for the end of the bot turn when the turn offers that', async () => {
      const def = registry.get('complaint.open');
      if (!def) throw new Error('no complaint.open');
      const [before] = await database.db.select().from(merchants).where(eq(merchants.id, merchantId));
      const conversationId = await conversationFor(testCustomer);
      await database.db.transaction(async (tx) => {
        const last: ((t: Tx) => Promise<unknown>)[] = [];
        const input = def.input.parse({ category: 'other', merchantId, description: '门店关门了', wantedOutcome: 'refund' });
        const res = await def.run({ tx, now: NOW, clock: new FakeClock(NOW), customerId: testCustomer, conversationId, locale: 'zh-Hans', lastInTurn: (w) => last.push(w) }, input);
        expect(res.outcome).toBe('opened');
        const [during] = await tx.select().from(merchants).where(eq(merchants.id, merchantId));
        expect(during!.complaintCount).toBe(before!.complaintCount);
        expect(last).toHaveLength(1);
        for (const write of last) await write(tx);
      });
      const [after] = await database.db.select().from(merchants).where(eq(merchants.id, merchantId));
      expect(after!.complaintCount).toBe(before!.complaintCount + 1);
    });

    it('gives every one of concurrent complaints its own ticket number', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          act('complaint.open', { category: 'other', merchantId, description: '测试', wantedOutcome: 'just_report' }, testCustomer),
        ),
      );
      const tickets = results.map((r) => r.data.ticketNumber);
      expect(new Set(tickets).size).toBe(10);
    });

    it('refuses to open a complaint about someone else’s order', async () => {
      const [emilys] = await ordersOf(DEMO_EN_CUSTOMER_ID);
      const res = await act('complaint.open', { category: 'other', order: emilys!.order.orderNumber, description: 'x', wantedOutcome: 'just_report' }, testCustomer);
      expect(res.outcome).toBe('not_found');
    });
  });
});
