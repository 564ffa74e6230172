/**
 * The demo data set as files: merchants and their deals, customers and their stories, the
 * everyday orders' knobs (demo/*.yaml). Parsed and cross-checked here once; src/db/seed.ts turns
 * it into rows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import { Locale } from '../core/message.js';

/** Where the shipped demo data lives. */
export const DEMO_DIR = join(import.meta.dirname, '../../demo');

const Hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day, HH:MM');
const Hour = z.number().int().min(0).max(23);
/** A fixed number, or [min, max] for one the seed draws. */
export const Amount = z.union([z.number().int().nonnegative(), z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])]);
export type Amount = z.infer<typeof Amount>;

export const DemoDeal = z.strictObject({
  key: z.string().min(1).optional(),
  title: z.string().min(1),
  included: z.array(z.strictObject({ item: z.string().min(1), quantity: z.number().int().positive() })).min(1),
  weekdays: z.array(z.number().int().min(1).max(7)).min(1),
  hours: z.strictObject({ from: Hhmm, to: Hhmm }),
  reservation: z.boolean(),
  notes: z.string().min(1),
  /** Yuan. */
  price: z.number().positive(),
  originalPrice: z.number().positive(),
  refundAnytime: z.boolean(),
  refundOnExpiry: z.boolean(),
  validity: z.enum(['current', 'expiring', 'expired']),
  /** The platform's wording in other languages: title, notes, included item names in order. */
  translations: z
    .partialRecord(
      z.enum(['zh-Hans', 'zh-Hant', 'en']),
      z.strictObject({ title: z.string().min(1).optional(), notes: z.string().min(1).optional(), included: z.array(z.string().min(1)).optional() }),
    )
    .optional(),
});
export type DemoDeal = z.infer<typeof DemoDeal>;

export const DemoMerchant = z.strictObject({
  name: z.string().min(1),
  category: z.string().min(1),
  city: z.string().min(1),
  address: z.string().min(1),
  phone: z.string().min(1),
  /** Why the platform warned this merchant; absent for merchants in good standing. */
  warning: z.string().min(1).optional(),
  deals: z.array(DemoDeal).min(1),
});
export type DemoMerchant = z.infer<typeof DemoMerchant>;

const Hours = z.tuple([Hour, Hour]);
/** A moment of a story, relative to the seeding day or to the deal's last valid day. */
export const StoryMoment = z.union([
  z.strictObject({ daysAgo: Amount, hours: Hours }),
  z.strictObject({ daysBeforeValidTo: Amount, hours: Hours }),
  z.strictObject({ hoursAgo: Amount }),
]);
export type StoryMoment = z.infer<typeof StoryMoment>;

export const StoryCoupon = z.union([
  z.strictObject({ state: z.enum(['unused', 'expired']) }),
  z.strictObject({ state: z.literal('used'), secondsAfterPrevious: Amount.optional() }),
  z.strictObject({
    state: z.enum(['refunded', 'refund_pending']),
    policy: z.string().min(1),
    at: StoryMoment,
    reason: z.union([z.string().min(1), z.null(), z.strictObject({ random: z.literal(true) })]),
    decidedBy: z.email().optional(),
  }),
]);
export type StoryCoupon = z.infer<typeof StoryCoupon>;

export const StoryOrder = z.strictObject({
  deal: z.string().min(1),
  at: StoryMoment,
  payment: z.enum(['wechat_pay', 'alipay', 'bank_card']),
  coupons: z.array(StoryCoupon).min(1).max(4),
});
export type StoryOrder = z.infer<typeof StoryOrder>;

export const DemoCustomer = z.strictObject({
  key: z.string().min(1).optional(),
  name: z.string().min(1),
  birthYear: z.number().int().min(1900).max(2100),
  locale: Locale,
  phone: z.string().regex(/^1\d{10}$/, 'a mainland mobile number').optional(),
  email: z.email().optional(),
  firstTime: z.boolean().optional(),
  storyOnly: z.boolean().optional(),
  story: z
    .strictObject({
      joined: z.strictObject({ daysBeforeFirstOrder: Amount, hoursBefore: Amount }).optional(),
      orders: z.array(StoryOrder).min(1),
    })
    .optional(),
});
export type DemoCustomer = z.infer<typeof DemoCustomer>;

export const DemoOrders = z.strictObject({
  target: z.number().int().positive(),
  refundReasons: z.array(z.string().min(1).nullable()).min(1),
});
export type DemoOrders = z.infer<typeof DemoOrders>;

export interface DemoData {
  merchants: DemoMerchant[];
  customers: DemoCustomer[];
  orders: DemoOrders;
}

function readYaml<T>(dir: string, file: string, schema: z.ZodType<T>): T {
  const path = join(dir, file);
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new AppError('internal', `demo data ${path} cannot be read: ${err instanceof Error ? err.message : String(err)}`, undefined, {
      cause: err,
    });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const list = parsed.error.issues.map((i) => `${file} ${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new AppError('internal', `demo data in ${dir} is invalid:\n${list.join('\n')}`, list);
  }
  return parsed.data;
}

/**
 * Reads and checks the demo data: each file against its schema, then the references between
 * them (a story's deal keys, the customer keys and account emails the code knows, unique keys).
 * Throws one AppError
 * listing every problem.
 */
export function loadDemoData(
  dir: string = DEMO_DIR,
  known: { customerKeys?: readonly string[]; accountEmails?: readonly string[] } = {},
): DemoData {
  const data: DemoData = {
    merchants: readYaml(dir, 'merchants.yaml', z.array(DemoMerchant).min(1)),
    customers: readYaml(dir, 'customers.yaml', z.array(DemoCustomer).min(1)),
    orders: readYaml(dir, 'orders.yaml', DemoOrders),
  };
  const problems: string[] = [];
  const dealKeys = new Set<string>();
  for (const [m, merchant] of data.merchants.entries()) {
    for (const [d, deal] of merchant.deals.entries()) {
      const where = `merchants.yaml ${m}.deals.${d}`;
      if (deal.key !== undefined) {
        if (dealKeys.has(deal.key)) problems.push(`${where}.key: deal key "${deal.key}" is used twice`);
        dealKeys.add(deal.key);
      }
      if (deal.price >= deal.originalPrice) problems.push(`${where}.price: must be below originalPrice`);
      if (deal.hours.from >= deal.hours.to) problems.push(`${where}.hours: from must be before to`);
    }
  }
  const customerKeys = new Set<string>();
  const phones = new Set<string>();
  for (const [c, customer] of data.customers.entries()) {
    const where = `customers.yaml ${c}`;
    if (customer.key !== undefined) {
      if (customerKeys.has(customer.key)) problems.push(`${where}.key: customer key "${customer.key}" is used twice`);
      customerKeys.add(customer.key);
    }
    if (customer.phone !== undefined) {
      if (phones.has(customer.phone)) problems.push(`${where}.phone: ${customer.phone} is used twice`);
      phones.add(customer.phone);
    }
    for (const [o, order] of (customer.story?.orders ?? []).entries()) {
      if (!dealKeys.has(order.deal)) problems.push(`${where}.story.orders.${o}.deal: no deal with key "${order.deal}" in merchants.yaml`);
      for (const [k, coupon] of order.coupons.entries()) {
        const previous = order.coupons[k - 1];
        if (coupon.state === 'used' && coupon.secondsAfterPrevious !== undefined && previous?.state !== 'used') {
          problems.push(`${where}.story.orders.${o}.coupons.${k}: secondsAfterPrevious needs a used coupon before it`);
        }
        if ('decidedBy' in coupon && coupon.decidedBy !== undefined && known.accountEmails && !known.accountEmails.includes(coupon.decidedBy)) {
          problems.push(`${where}.story.orders.${o}.coupons.${k}.decidedBy: no demo account ${coupon.decidedBy}`);
        }
      }
    }
  }
  for (const key of known.customerKeys ?? []) {
    if (!customerKeys.has(key)) problems.push(`customers.yaml: no customer with key "${key}"`);
  }
  if (problems.length > 0) throw new AppError('internal', `demo data in ${dir} is invalid:\n${problems.join('\n')}`, problems);
  return data;
}
