/**
 * Deterministic demo data: merchants, deals, customers, orders with coupons, refunds, and the five
 * console accounts. The catalogue, the customers and their stories are data in demo/*.yaml (read
 * by demo-data.ts); this module draws what the files leave open (ids, dates, the everyday orders)
 * and inserts the rows. The same files, `seed` and `now` give byte-identical rows (ids included),
 * so tests can rely on them; every date is derived from `now`. Dates of the catalogue (valid
 * dates, opening hours, "end of the valid day") are in China time (UTC+8), where the merchants are.
 */
import { hash } from '@node-rs/argon2';
import type { PgInsertValue, PgTable } from 'drizzle-orm/pg-core';
import { AppError } from '../core/errors.js';
import type { Db, DbOrTx } from './client.js';
import { type Amount, DEMO_DIR, type DemoData, loadDemoData, type StoryCoupon, type StoryMoment } from './demo-data.js';
import { agents, coupons, customers, deals, merchants, orders, refunds } from './schema.js';
import type { DealItem } from './schema.js';

export const DEMO_PASSWORD = 'kefu-demo';

export type DemoRole = 'agent' | 'manager' | 'admin' | 'editor';

/**
 * The console accounts of the demo; all share DEMO_PASSWORD. They stay in code rather than in
 * demo/: tests, the start-up banner and the stories' `decidedBy` name them.
 */
export const DEMO_ACCOUNTS: readonly { email: string; name: string; role: DemoRole }[] = [
  { email: 'agent1@kefu.demo', name: '李明', role: 'agent' },
  { email: 'agent2@kefu.demo', name: '王芳', role: 'agent' },
  { email: 'agent3@kefu.demo', name: 'Alex Zhou', role: 'agent' },
  { email: 'manager@kefu.demo', name: '赵静', role: 'manager' },
  { email: 'admin@kefu.demo', name: 'Admin', role: 'admin' },
  { email: 'editor@kefu.demo', name: '周编辑', role: 'editor' },
];

/**
 * 王秀兰, 68, a first-time user: an unused coupon of a refund-anytime anniversary dinner, a used
 * cinema order, and an expired coupon of a deal without refund terms. Fixed, whatever the seed.
 */
/** The demo studio editor: a fixed id, so adding the account did not shift the generated demo data. */
export const DEMO_EDITOR_ID = 'c0ffee00-5e10-4a11-8b00-0000000000ed';

export const DEMO_SENIOR_CUSTOMER_ID = 'c0ffee00-5e10-4a11-8b00-000000000001';
/** Emily Chen, English: an order of two coupons, one refunded and one unused (refund anytime). */
export const DEMO_EN_CUSTOMER_ID = 'c0ffee00-5e10-4a11-8b00-000000000002';
/** The customers code and tests name, bound to their entries by `key` in demo/customers.yaml. */
const FIXED_CUSTOMER_IDS: ReadonlyMap<string, string> = new Map([
  ['senior', DEMO_SENIOR_CUSTOMER_ID],
  ['emily', DEMO_EN_CUSTOMER_ID],
]);

export const DEFAULT_DEMO_SEED = 20261122;

export interface SeedSummary {
  merchants: number;
  deals: number;
  customers: number;
  orders: number;
  coupons: number;
  refunds: number;
  agents: number;
}

export interface SeedOptions {
  seed?: number;
  /** Reference time; defaults to the current time rounded down to the (UTC) day. */
  now?: Date;
}

type MerchantRow = typeof merchants.$inferInsert & { id: string; createdAt: Date };
type DealRow = typeof deals.$inferInsert & { id: string; createdAt: Date };
type CustomerRow = typeof customers.$inferInsert & { id: string; createdAt: Date };
type OrderRow = typeof orders.$inferInsert & { id: string; createdAt: Date };
type CouponRow = typeof coupons.$inferInsert & { id: string; createdAt: Date };
type RefundRow = typeof refunds.$inferInsert & { id: string; createdAt: Date };
type AgentRow = typeof agents.$inferInsert & { id: string; createdAt: Date };
type CouponState = NonNullable<CouponRow['state']>;
type PaymentMethod = 'wechat_pay' | 'alipay' | 'bank_card';

const CHUNK = 500;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const CN_OFFSET = 8 * HOUR;

/** True when there are neither customers nor agents: nothing to overwrite, demo data may go in. */
export async function isDatabaseEmpty(db: Db): Promise<boolean> {
  const [customer] = await db.select({ id: customers.id }).from(customers).limit(1);
  if (customer) return false;
  const [agent] = await db.select({ id: agents.id }).from(agents).limit(1);
  return !agent;
}

/** Inserts the demo data set into an empty database, in one transaction. */
export async function seedDemoData(db: Db, options: SeedOptions = {}): Promise<SeedSummary> {
  if (!(await isDatabaseEmpty(db))) {
    throw new AppError('conflict', 'The database already has customers or agents; demo data only goes into an empty database.');
  }
  const now = options.now ?? new Date(Math.floor(Date.now() / DAY) * DAY);
  // argon2 salts randomly, so this hash is the one value that differs between runs. One hash
  // serves all five accounts: hashing is deliberately slow and this keeps seeding fast. It runs
  // on a worker thread, so it is started first and overlaps reading the data files.
  const hashing = hash(DEMO_PASSWORD);
  const source = loadDemoData(DEMO_DIR, {
    customerKeys: [...FIXED_CUSTOMER_IDS.keys()],
    accountEmails: DEMO_ACCOUNTS.map((a) => a.email),
  });
  const data = buildDemoRows(source, options.seed ?? DEFAULT_DEMO_SEED, now.getTime());
  const passwordHash = await hashing;
  const agentRows = data.agents.map((a) => ({ ...a, passwordHash }));
  await db.transaction(async (tx) => {
    await insertChunked(tx, merchants, data.merchants);
    await insertChunked(tx, deals, data.deals);
    await insertChunked(tx, customers, data.customers);
    await insertChunked(tx, agents, agentRows);
    await insertChunked(tx, orders, data.orders);
    await insertChunked(tx, coupons, data.coupons);
    await insertChunked(tx, refunds, data.refunds);
  });
  return {
    merchants: data.merchants.length,
    deals: data.deals.length,
    customers: data.customers.length,
    orders: data.orders.length,
    coupons: data.coupons.length,
    refunds: data.refunds.length,
    agents: agentRows.length,
  };
}

async function insertChunked<T extends PgTable>(tx: DbOrTx, table: T, rows: PgInsertValue<T>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await tx.insert(table).values(rows.slice(i, i + CHUNK));
}

// ---------------------------------------------------------------------------------------------
// Randomness and time

/** mulberry32: a tiny, fast, seedable PRNG (never Math.random here). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    const last = items[items.length - 1];
    if (!last) throw new Error('weighted pick from an empty list');
    return last[0];
  }
  /** A valid-looking version 4 UUID. */
  uuid(): string {
    let hex = '';
    for (let i = 0; i < 4; i++) hex += Math.floor(this.next() * 0x100000000).toString(16).padStart(8, '0');
    const variant = '89ab'[Math.floor(this.next() * 4)] ?? '8';
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}

/** China-local calendar date of an instant, 'YYYY-MM-DD'. */
function cnDate(t: number): string {
  return new Date(t + CN_OFFSET).toISOString().slice(0, 10);
}
function addDays(date: string, n: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
}
/** ISO weekday, 1 = Monday .. 7 = Sunday. */
function isoWeekday(date: string): number {
  const d = new Date(`${date}T00:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
}
/** The instant of a China-local date and 'HH:MM'. */
function cnTime(date: string, hhmm: string): number {
  return Date.parse(`${date}T${hhmm}:00+08:00`);
}
function startOfCnDay(date: string): number {
  return cnTime(date, '00:00');
}
/** A coupon's expiry: the end of its deal's last valid day, China time. */
function endOfCnDay(date: string): number {
  return Date.parse(`${date}T23:59:59+08:00`);
}
function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}
function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
/** Whole seconds keep the stored timestamps tidy. */
function sec(t: number): number {
  return Math.floor(t / 1000) * 1000;
}

// ---------------------------------------------------------------------------------------------
// Building

const CODE_CHARS = [...'ABCDEFGHJKLMNPQRSTUVWXYZ23456789']; // no 0/O or 1/I to misread

interface DemoRows {
  merchants: MerchantRow[];
  deals: DealRow[];
  customers: CustomerRow[];
  agents: Omit<AgentRow, 'passwordHash'>[];
  orders: OrderRow[];
  coupons: CouponRow[];
  refunds: RefundRow[];
}

type CouponPlan =
  | { state: 'unused' | 'expired' }
  | { state: 'used'; usedAt: number }
  | { state: 'refunded' | 'refund_pending'; policy: string; at: number; reason: string | null; decidedBy?: string | undefined };

/**
 * Turns the data files into rows. Every random draw comes from one seeded PRNG in a fixed order
 * (accounts, merchants, deals, customers, stories, everyday orders), so the same files, seed and
 * now give the same rows.
 */
function buildDemoRows(source: DemoData, seed: number, now: number): DemoRows {
  const rng = new Rng(seed);
  const today = cnDate(now);

  // Console accounts first, so a manager can have decided a refund.
  const agentRows = DEMO_ACCOUNTS.map((a, i) => ({
    id: a.role === 'editor' ? DEMO_EDITOR_ID : rng.uuid(),
    email: a.email,
    name: a.name,
    role: a.role,
    active: true,
    createdAt: new Date(sec(now - (400 - i * 20) * DAY)),
  }));
  const agentId = (email: string): string => {
    const row = agentRows.find((a) => a.email === email);
    if (!row) throw new Error(`no demo account ${email}`);
    return row.id;
  };

  const merchantRows: MerchantRow[] = source.merchants.map((m) => ({
    id: rng.uuid(),
    name: m.name,
    category: m.category,
    city: m.city,
    address: m.address,
    phone: m.phone,
    status: m.warning ? 'warned' : 'active',
    statusReason: m.warning ?? null,
    complaintCount: m.warning ? 9 : rng.weighted([[0, 5], [1, 3], [2, 2], [3, 1]] as const),
    createdAt: new Date(sec(now - rng.int(400, 1100) * DAY)),
  }));

  const dealRows: DealRow[] = [];
  const dealByKey = new Map<string, DealRow>();
  const dealSpecs = source.merchants.flatMap((m, i) => m.deals.map((spec) => ({ spec, merchant: merchantRows[i] })));
  for (const { spec, merchant } of dealSpecs) {
    if (!merchant) throw new Error(`deal ${spec.title}: no merchant row`);
    let validFrom: string;
    let validTo: string;
    if (spec.validity === 'expired') {
      validTo = addDays(today, -rng.int(8, 60));
      validFrom = addDays(validTo, -rng.int(120, 200));
    } else {
      validFrom = addDays(today, -rng.int(130, 240));
      validTo = spec.validity === 'expiring' ? addDays(today, rng.int(2, 9)) : addDays(today, rng.int(30, 200));
    }
    const row: DealRow = {
      id: rng.uuid(),
      merchantId: merchant.id,
      title: spec.title,
      category: merchant.category,
      included: spec.included.map(({ item, quantity }): DealItem => ({ item, quantity })),
      validFrom,
      validTo,
      weekdays: [...spec.weekdays],
      hoursFrom: spec.hours.from,
      hoursTo: spec.hours.to,
      reservationRequired: spec.reservation,
      usageNotes: spec.notes,
      priceCents: Math.round(spec.price * 100),
      originalPriceCents: Math.round(spec.originalPrice * 100),
      refundAnytime: spec.refundAnytime,
      refundOnExpiry: spec.refundOnExpiry,
      translations: Object.fromEntries(
        Object.entries(spec.translations ?? {}).map(([locale, t]) => [
          locale,
          { ...(t.title ? { title: t.title } : {}), ...(t.notes ? { usageNotes: t.notes } : {}), ...(t.included ? { included: t.included } : {}) },
        ]),
      ),
      createdAt: new Date(sec(startOfCnDay(validFrom) - rng.int(1, 10) * DAY - rng.int(0, 12) * HOUR)),
    };
    dealRows.push(row);
    if (spec.key) dealByKey.set(spec.key, row);
  }
  const dealKey = (key: string): DealRow => {
    const row = dealByKey.get(key);
    if (!row) throw new Error(`no demo deal ${key}`);
    return row;
  };

  const phones = new Set(source.customers.flatMap((c) => (c.phone === undefined ? [] : [c.phone])));
  const customerRows: CustomerRow[] = source.customers.map((c) => {
    let phone = c.phone;
    if (phone === undefined) {
      do phone = `138${rng.int(10_000_000, 99_999_999)}`;
      while (phones.has(phone));
      phones.add(phone);
    }
    const fixedId = c.key === undefined ? undefined : FIXED_CUSTOMER_IDS.get(c.key);
    return {
      id: fixedId ?? rng.uuid(),
      name: c.name,
      phone,
      email: c.email ?? null,
      locale: c.locale,
      birthYear: c.birthYear,
      firstTimeUser: c.firstTime ?? false,
      guest: false,
      createdAt: new Date(sec(now - rng.int(130, 1000) * DAY - rng.int(0, 23) * HOUR)),
    };
  });
  const customer = (i: number): CustomerRow => {
    const row = customerRows[i];
    if (!row) throw new Error(`no demo customer ${i}`);
    return row;
  };

  const orderRows: OrderRow[] = [];
  const couponRows: CouponRow[] = [];
  const refundRows: RefundRow[] = [];
  const orderNumbers = new Set<string>();
  const codes = new Set<string>();

  const newOrderNumber = (): string => {
    let n: string;
    do n = `KF${rng.int(10_000_000, 99_999_999)}`;
    while (orderNumbers.has(n));
    orderNumbers.add(n);
    return n;
  };
  const newCode = (): string => {
    let code: string;
    do {
      let raw = '';
      for (let i = 0; i < 12; i++) raw += rng.pick(CODE_CHARS);
      code = `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8, 12)}`;
    } while (codes.has(code));
    codes.add(code);
    return code;
  };
  const settleDays = (pm: string): number => (pm === 'bank_card' ? 3 : 1);

  /** A moment the coupon could really have been used: an allowed weekday, within the hours. */
  const usageTime = (deal: DealRow, from: number, to: number): number | null => {
    const start = Math.max(from, startOfCnDay(deal.validFrom));
    const end = Math.min(to, endOfCnDay(deal.validTo));
    if (end <= start) return null;
    const days: string[] = [];
    for (let d = cnDate(start); d <= cnDate(end); d = addDays(d, 1)) {
      if (deal.weekdays.includes(isoWeekday(d))) days.push(d);
    }
    const lo = minutesOf(deal.hoursFrom);
    const hi = Math.max(lo, minutesOf(deal.hoursTo) - 30);
    for (let attempt = 0; attempt < 6 && days.length > 0; attempt++) {
      const t = cnTime(rng.pick(days), hhmm(rng.int(lo, hi))) + rng.int(0, 59) * 1000;
      if (t > start && t < end) return t;
    }
    return null;
  };

  /** A time on `date` (China) in the day's busy hours. */
  const dayTime = (date: string, fromHour = 8, toHour = 22): number =>
    cnTime(date, hhmm(rng.int(fromHour * 60, toHour * 60 + 59))) + rng.int(0, 59) * 1000;

  const addOrder = (
    cust: CustomerRow,
    deal: DealRow,
    createdAt: number,
    quantity: number,
    paymentMethod: PaymentMethod,
    plans: (order: OrderRow, expiresAt: number) => CouponPlan[],
  ): OrderRow => {
    const unit = deal.priceCents;
    const order: OrderRow = {
      id: rng.uuid(),
      orderNumber: newOrderNumber(),
      customerId: cust.id,
      dealId: deal.id,
      quantity,
      unitPriceCents: unit,
      totalCents: unit * quantity,
      paymentMethod,
      createdAt: new Date(sec(createdAt)),
    };
    orderRows.push(order);
    const expiresAt = endOfCnDay(deal.validTo);
    const couponPlans = plans(order, expiresAt);
    if (couponPlans.length !== quantity) throw new Error('one coupon plan per coupon');
    for (const plan of couponPlans) {
      const coupon: CouponRow = {
        id: rng.uuid(),
        orderId: order.id,
        code: newCode(),
        state: plan.state as CouponState,
        usedAt: plan.state === 'used' ? new Date(sec(plan.usedAt)) : null,
        expiresAt: new Date(expiresAt),
        createdAt: order.createdAt,
      };
      couponRows.push(coupon);
      if (plan.state === 'refunded' || plan.state === 'refund_pending') {
        const created = sec(plan.at);
        const paid = plan.state === 'refunded';
        const decidedAt = paid ? (plan.decidedBy ? sec(created + rng.int(1, 5) * HOUR) : created) : null;
        refundRows.push({
          id: rng.uuid(),
          couponId: coupon.id,
          orderId: order.id,
          customerId: cust.id,
          amountCents: unit,
          status: paid ? 'paid' : 'pending_review',
          policy: plan.policy,
          reason: plan.reason,
          conversationId: null,
          decidedByAgentId: plan.decidedBy ?? null,
          expectedBy: decidedAt === null ? null : new Date(decidedAt + settleDays(paymentMethod) * DAY),
          createdAt: new Date(created),
          decidedAt: decidedAt === null ? null : new Date(decidedAt),
        });
      }
    }
    return order;
  };

  const orderTime = (o: OrderRow): number => o.createdAt.getTime();
  const mustUse = (deal: DealRow, from: number): number => {
    const t = usageTime(deal, from + HOUR, now - HOUR);
    if (t === null) throw new Error(`demo scenario: ${deal.title} cannot have been used`);
    return t;
  };

  /** A fixed amount, or one drawn from [min, max]. */
  const draw = (amount: Amount): number => (typeof amount === 'number' ? amount : rng.int(amount[0], amount[1]));
  const moment = (at: StoryMoment, deal: DealRow): number => {
    if ('hoursAgo' in at) return now - draw(at.hoursAgo) * HOUR;
    const day = 'daysAgo' in at ? addDays(today, -draw(at.daysAgo)) : addDays(deal.validTo, -draw(at.daysBeforeValidTo));
    return dayTime(day, at.hours[0], at.hours[1]);
  };
  const storyPlans = (coupons: readonly StoryCoupon[], deal: DealRow, order: OrderRow): CouponPlan[] => {
    const plans: CouponPlan[] = [];
    for (const c of coupons) {
      switch (c.state) {
        case 'unused':
        case 'expired':
          plans.push({ state: c.state });
          break;
        case 'used': {
          const previous = plans[plans.length - 1];
          if (c.secondsAfterPrevious === undefined) {
            plans.push({ state: 'used', usedAt: mustUse(deal, orderTime(order)) });
          } else if (previous?.state === 'used') {
            plans.push({ state: 'used', usedAt: previous.usedAt + draw(c.secondsAfterPrevious) * 1000 });
          } else {
            throw new Error(`demo story: ${deal.title} has a coupon used together with one that was not`);
          }
          break;
        }
        case 'refunded':
        case 'refund_pending': {
          const at = moment(c.at, deal);
          const reason = c.reason === null || typeof c.reason === 'string' ? c.reason : rng.pick(source.orders.refundReasons);
          const decidedBy = c.decidedBy === undefined ? undefined : agentId(c.decidedBy);
          plans.push({ state: c.state, policy: c.policy, at, reason, decidedBy });
          break;
        }
      }
    }
    return plans;
  };

  // --- The stories of demo/customers.yaml, in file order -----------------------------------------
  for (const [i, spec] of source.customers.entries()) {
    const story = spec.story;
    if (!story) continue;
    const cust = customer(i);
    for (const [n, o] of story.orders.entries()) {
      const deal = dealKey(o.deal);
      const at = moment(o.at, deal);
      if (n === 0 && story.joined) {
        cust.createdAt = new Date(sec(at - draw(story.joined.daysBeforeFirstOrder) * DAY - draw(story.joined.hoursBefore) * HOUR));
      }
      addOrder(cust, deal, at, o.coupons.length, o.payment, (order) => storyPlans(o.coupons, deal, order));
    }
  }

  // --- Everyone else: ordinary orders over the last 120 days ------------------------------------
  const pool = customerRows.filter((_, i) => !source.customers[i]?.storyOnly).map((c) => [c, rng.int(1, 5)] as const);
  const horizon = now - 120 * DAY;
  const windows = dealRows
    .map((deal) => ({
      deal,
      from: Math.max(horizon, startOfCnDay(deal.validFrom)),
      to: Math.min(now - HOUR, endOfCnDay(deal.validTo) - DAY),
    }))
    .filter((w) => w.to > w.from + DAY)
    .map((w) => [w, 1] as const);

  while (orderRows.length < source.orders.target) {
    const cust = rng.weighted(pool);
    const { deal, from, to } = rng.weighted(windows);
    let createdAt = dayTime(cnDate(from + rng.float() * (to - from)));
    if (createdAt <= from || createdAt >= to) createdAt = from + rng.float() * (to - from);
    createdAt = Math.max(createdAt, cust.createdAt.getTime() + HOUR);
    const quantity =
      deal.priceCents >= 50_000 ? rng.weighted([[1, 4], [2, 1]] as const) : rng.weighted([[1, 50], [2, 30], [3, 12], [4, 8]] as const);
    const paymentMethod = rng.weighted([['wechat_pay', 55], ['alipay', 35], ['bank_card', 10]] as const);
    addOrder(cust, deal, createdAt, quantity, paymentMethod, (order, expiresAt) => {
      const bought = orderTime(order);
      const randomPlan = (): CouponPlan => {
        const r = rng.float();
        const expired = expiresAt <= now;
        if (r < (expired ? 0.6 : 0.4)) {
          const usedAt = usageTime(deal, bought + HOUR, now - 10 * MINUTE);
          if (usedAt !== null) return { state: 'used', usedAt };
        }
        if (deal.refundAnytime && r < (expired ? 0.7 : 0.52)) {
          // Refunded and paid out; the money arrived before now.
          const lo = bought + HOUR;
          const hi = Math.min(expiresAt, now - 4 * DAY);
          if (hi > lo) return { state: 'refunded', policy: 'refund_anytime', at: lo + rng.float() * (hi - lo), reason: rng.pick(source.orders.refundReasons) };
        }
        if (expired) {
          if (deal.refundOnExpiry) return { state: 'refunded', policy: 'refund_on_expiry', at: expiresAt + rng.int(1, 30) * MINUTE, reason: null };
          return { state: 'expired' };
        }
        if (deal.refundAnytime && r > 0.975 && now - bought > 6 * HOUR) {
          // A large amount waits for an agent's review; otherwise it would have been approved.
          const at = Math.max(bought + HOUR, now - rng.int(2, 20) * HOUR);
          const policy = deal.priceCents >= 50_000 ? 'review:large_amount' : 'review:frequent_refunds';
          return { state: 'refund_pending', policy, at, reason: rng.pick(source.orders.refundReasons) };
        }
        return { state: 'unused' };
      };
      const shared = randomPlan();
      return Array.from({ length: quantity }, (_, i) => {
        if (i === 0 || rng.chance(0.75)) {
          // Coupons of one order usually share their fate; two coupons used together differ by seconds.
          return shared.state === 'used' ? { ...shared, usedAt: shared.usedAt + i * rng.int(5, 40) * 1000 } : shared;
        }
        return randomPlan();
      });
    });
  }

  orderRows.sort((a, b) => orderTime(a) - orderTime(b) || a.orderNumber.localeCompare(b.orderNumber));

  return {
    merchants: merchantRows,
    deals: dealRows,
    customers: customerRows,
    agents: agentRows,
    orders: orderRows,
    coupons: couponRows,
    refunds: refundRows,
  };
}
