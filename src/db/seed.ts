/**
 * Deterministic demo data: merchants, deals, customers, orders with coupons, refunds, and the five
 * console accounts. The same `seed` and `now` give byte-identical rows (ids included), so tests can
 * rely on them; every date is derived from `now`. Dates of the catalogue (valid dates, opening
 * hours, "end of the valid day") are in China time (UTC+8), where the merchants are.
 */
import { hash } from '@node-rs/argon2';
import type { PgInsertValue, PgTable } from 'drizzle-orm/pg-core';
import { AppError } from '../core/errors.js';
import type { Db, DbOrTx } from './client.js';
import { agents, coupons, customers, deals, merchants, orders, refunds } from './schema.js';
import type { DealItem } from './schema.js';

export const DEMO_PASSWORD = 'kefu-demo';

export type DemoRole = 'agent' | 'manager' | 'admin' | 'editor';

/** The console accounts of the demo; all share DEMO_PASSWORD. */
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
  const data = buildDemoData(options.seed ?? DEFAULT_DEMO_SEED, now.getTime());
  // argon2 salts randomly, so this hash is the one value that differs between runs. One hash
  // serves all five accounts: hashing is deliberately slow and this keeps seeding fast.
  const passwordHash = await hash(DEMO_PASSWORD);
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
// The catalogue

interface MerchantSpec {
  name: string;
  category: string;
  city: string;
  address: string;
  phone: string;
  warned?: string;
}

const MERCHANTS: readonly MerchantSpec[] = [
  { name: '金玉满堂粤菜酒家', category: 'restaurant', city: '上海', address: '上海市静安区南京西路1266号3楼', phone: '021-6288 6621' },
  { name: '老北京铜锅涮肉', category: 'restaurant', city: '北京', address: '北京市东城区东四北大街256号', phone: '010-6403 1188' },
  {
    name: '蜀香园川菜馆',
    category: 'restaurant',
    city: '成都',
    address: '成都市锦江区春熙路88号2楼',
    phone: '028-8666 2035',
    warned: '近30天投诉率超过阈值：多名消费者反映团购券用户被安排在大厅角落并被加收餐位费，已书面警告并要求整改。',
  },
  { name: '江南小院私房菜', category: 'restaurant', city: '杭州', address: '杭州市西湖区文三路477号', phone: '0571-8765 4321' },
  { name: '静心堂足道养生', category: 'massage', city: '上海', address: '上海市徐汇区漕溪北路398号2楼', phone: '021-6468 7702' },
  { name: '悦容SPA美容会所', category: 'spa', city: '深圳', address: '深圳市福田区福华三路168号5楼', phone: '0755-8299 1566' },
  { name: '星光国际影城', category: 'cinema', city: '上海', address: '上海市静安区大宁路718号5楼', phone: '021-5635 9900' },
  { name: '银河影城', category: 'cinema', city: '武汉', address: '武汉市洪山区珞喻路766号4楼', phone: '027-8765 3300' },
  { name: '欢唱派量贩KTV', category: 'ktv', city: '重庆', address: '重庆市渝中区民权路28号6楼', phone: '023-6381 5577' },
  { name: '声临其境量贩KTV', category: 'ktv', city: '西安', address: '西安市雁塔区小寨东路126号', phone: '029-8526 7788' },
  { name: '麦香坊烘焙', category: 'bakery', city: '苏州', address: '苏州市姑苏区观前街45号', phone: '0512-6727 3366' },
  { name: '暖阳汤泉养生馆', category: 'spa', city: '天津', address: '天津市和平区南京路219号', phone: '022-2721 8899' },
];

type Validity = 'current' | 'expiring' | 'expired';
const ALL = [1, 2, 3, 4, 5, 6, 7];
const MON_FRI = [1, 2, 3, 4, 5];

interface DealSpec {
  key?: string;
  m: number;
  title: string;
  included: readonly (readonly [string, number])[];
  weekdays: readonly number[];
  hours: readonly [string, string];
  reservation: boolean;
  notes: string;
  /** Yuan. */
  price: number;
  original: number;
  anytime: boolean;
  expiry: boolean;
  validity: Validity;
}

const DEALS: readonly DealSpec[] = [
  // 金玉满堂粤菜酒家
  {
    key: 'anniversary',
    m: 0,
    title: '双人纪念日晚宴套餐',
    included: [['白切鸡（半只）', 1], ['清蒸石斑鱼（约1斤）', 1], ['蒜蓉粉丝蒸扇贝', 4], ['上汤时蔬', 1], ['杨枝甘露', 2], ['白米饭', 2]],
    weekdays: ALL,
    hours: ['11:00', '21:30'],
    reservation: true,
    notes: '请至少提前1天致电预约；每桌限用1张；可免费提供纪念日祝福蛋糕牌；不可与店内其他优惠同享。',
    price: 398,
    original: 588,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    m: 0,
    title: '早茶双人点心套餐',
    included: [['虾饺皇（4只）', 1], ['蜜汁叉烧包（3只）', 1], ['豉汁蒸凤爪', 1], ['鲜虾肠粉', 1], ['茶位', 2]],
    weekdays: MON_FRI,
    hours: ['07:30', '11:00'],
    reservation: false,
    notes: '仅限周一至周五早茶时段使用；法定节假日不可用；无需预约，高峰期可能需排队。',
    price: 88,
    original: 128,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    m: 0,
    title: '四人家庭欢聚套餐',
    included: [['烧鹅（半只）', 1], ['椒盐九肚鱼', 1], ['咕噜肉', 1], ['蒜蓉炒菜心', 1], ['老火靓汤（例）', 1], ['红豆沙', 4], ['白米饭', 4]],
    weekdays: ALL,
    hours: ['11:00', '21:30'],
    reservation: true,
    notes: '请提前1天预约；包间不收包间费；酒水另计。',
    price: 688,
    original: 988,
    anytime: true,
    expiry: false,
    validity: 'current',
  },
  {
    m: 0,
    title: '100元代金券',
    included: [['100元代金券', 1]],
    weekdays: ALL,
    hours: ['11:00', '21:30'],
    reservation: false,
    notes: '全场通用，酒水除外；每桌每次最多使用2张；不找零。',
    price: 88,
    original: 100,
    anytime: true,
    expiry: true,
    validity: 'expired',
  },
  // 老北京铜锅涮肉
  {
    m: 1,
    title: '铜锅涮肉双人餐',
    included: [['手切鲜羊肉', 2], ['羊上脑', 1], ['白菜豆腐拼盘', 1], ['手工麻酱小料', 2], ['芝麻烧饼', 2]],
    weekdays: ALL,
    hours: ['11:00', '22:00'],
    reservation: false,
    notes: '无需预约，到店出示券码即可；锅底免费；小料不限量。',
    price: 168,
    original: 238,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    m: 1,
    title: '四人涮肉套餐',
    included: [['手切鲜羊肉', 4], ['肥牛卷', 2], ['鲜毛肚', 1], ['蔬菜拼盘', 2], ['手工麻酱小料', 4], ['芝麻烧饼', 4], ['酸梅汤（扎）', 1]],
    weekdays: ALL,
    hours: ['11:00', '22:00'],
    reservation: false,
    notes: '周末晚市建议提前电话预约；锅底免费。',
    price: 328,
    original: 458,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    m: 1,
    title: '工作日单人涮肉特惠餐',
    included: [['手切鲜羊肉', 1], ['蔬菜拼盘', 1], ['手工麻酱小料', 1], ['芝麻烧饼', 1]],
    weekdays: MON_FRI,
    hours: ['11:00', '14:00'],
    reservation: false,
    notes: '仅限工作日午市使用；特价套餐，售出后不支持退款。',
    price: 59,
    original: 88,
    anytime: false,
    expiry: false,
    validity: 'expired',
  },
  // 蜀香园川菜馆 (warned)
  {
    m: 2,
    title: '招牌川菜双人套餐',
    included: [['水煮鱼', 1], ['宫保鸡丁', 1], ['麻婆豆腐', 1], ['清炒时蔬', 1], ['米饭', 2]],
    weekdays: ALL,
    hours: ['11:00', '21:30'],
    reservation: false,
    notes: '堂食专用；不收餐位费；不可外带。',
    price: 128,
    original: 198,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    m: 2,
    title: '麻辣火锅四人餐',
    included: [['牛油红锅锅底', 1], ['鲜毛肚', 1], ['嫩牛肉', 2], ['鸭肠', 1], ['素菜拼盘', 2], ['冰粉', 4]],
    weekdays: ALL,
    hours: ['11:00', '22:00'],
    reservation: false,
    notes: '锅底可换鸳鸯锅，无需补差价；酒水另计。',
    price: 298,
    original: 428,
    anytime: true,
    expiry: false,
    validity: 'current',
  },
  {
    m: 2,
    title: '工作日午市单人套餐',
    included: [['回锅肉盖饭', 1], ['例汤', 1]],
    weekdays: MON_FRI,
    hours: ['11:00', '14:00'],
    reservation: false,
    notes: '仅限工作日午市；特价商品，售出不退。',
    price: 39,
    original: 58,
    anytime: false,
    expiry: false,
    validity: 'current',
  },
  // 江南小院私房菜
  {
    m: 3,
    title: '西湖醋鱼双人套餐',
    included: [['西湖醋鱼', 1], ['龙井虾仁', 1], ['东坡肉', 2], ['时令蔬菜', 1], ['米饭', 2]],
    weekdays: ALL,
    hours: ['11:00', '21:00'],
    reservation: true,
    notes: '需提前1天预约；靠窗座位视情况安排。',
    price: 198,
    original: 288,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    key: 'banquet',
    m: 3,
    title: '江南小院六人宴',
    included: [['冷菜拼盘', 1], ['西湖醋鱼', 1], ['龙井虾仁', 1], ['东坡肉', 6], ['叫花鸡', 1], ['时令蔬菜', 2], ['宋嫂鱼羹', 1], ['米饭', 6]],
    weekdays: ALL,
    hours: ['11:00', '21:00'],
    reservation: true,
    notes: '需提前2天预约包间；包间免费；自带酒水不收开瓶费。',
    price: 1288,
    original: 1688,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    m: 3,
    title: '下午茶双人套餐',
    included: [['龙井茶（壶）', 1], ['定胜糕', 2], ['桂花糖藕', 1], ['鲜果拼盘', 1]],
    weekdays: ALL,
    hours: ['14:00', '17:00'],
    reservation: false,
    notes: '仅限下午茶时段；每桌限用1张。',
    price: 98,
    original: 158,
    anytime: true,
    expiry: true,
    validity: 'expiring',
  },
  // 静心堂足道养生
  {
    key: 'footMassage',
    m: 4,
    title: '足疗60分钟',
    included: [['中药泡脚', 1], ['足底按摩60分钟', 1]],
    weekdays: ALL,
    hours: ['10:00', '23:00'],
    reservation: true,
    notes: '建议提前2小时电话预约；可指定技师，无需另付费用。',
    price: 98,
    original: 198,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    m: 4,
    title: '中式推拿90分钟',
    included: [['全身推拿90分钟', 1], ['养生茶', 1]],
    weekdays: ALL,
    hours: ['10:00', '23:00'],
    reservation: true,
    notes: '需提前预约；孕妇及饮酒后不宜。',
    price: 168,
    original: 298,
    anytime: true,
    expiry: false,
    validity: 'current',
  },
  {
    key: 'seniorExpired',
    m: 4,
    title: '足疗+肩颈按摩双人套餐',
    included: [['足底按摩60分钟', 2], ['肩颈按摩30分钟', 2], ['养生茶', 2]],
    weekdays: ALL,
    hours: ['10:00', '22:00'],
    reservation: true,
    notes: '限时特价，售出后不支持退款，过期作废；需提前1天预约。',
    price: 258,
    original: 458,
    anytime: false,
    expiry: false,
    validity: 'expired',
  },
  {
    m: 4,
    title: '单人头疗45分钟',
    included: [['头部理疗45分钟', 1]],
    weekdays: ALL,
    hours: ['10:00', '23:00'],
    reservation: false,
    notes: '无需预约，到店等位即可。',
    price: 68,
    original: 128,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  // 悦容SPA美容会所
  {
    key: 'spa',
    m: 5,
    title: '精油SPA 90分钟',
    included: [['全身精油SPA 90分钟', 1], ['花草茶', 1]],
    weekdays: ALL,
    hours: ['10:00', '22:00'],
    reservation: true,
    notes: '需提前1天预约；到店后不推销办卡。',
    price: 298,
    original: 588,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    m: 5,
    title: '面部深层清洁护理',
    included: [['面部深层清洁', 1], ['补水面膜', 1]],
    weekdays: ALL,
    hours: ['10:00', '22:00'],
    reservation: true,
    notes: '需提前预约；过期未使用自动退款。',
    price: 128,
    original: 268,
    anytime: false,
    expiry: true,
    validity: 'current',
  },
  {
    m: 5,
    title: '闺蜜双人SPA套餐',
    included: [['全身精油SPA 60分钟', 2], ['面部补水护理', 2], ['下午茶点心', 1]],
    weekdays: ALL,
    hours: ['10:00', '21:00'],
    reservation: true,
    notes: '需提前2天预约；特价套餐，售出不退。',
    price: 498,
    original: 988,
    anytime: false,
    expiry: false,
    validity: 'current',
  },
  {
    m: 5,
    title: '新客体验肩颈护理',
    included: [['肩颈护理45分钟', 1]],
    weekdays: MON_FRI,
    hours: ['10:00', '18:00'],
    reservation: true,
    notes: '新客专享，每人限购1份；不退不换。',
    price: 39,
    original: 168,
    anytime: false,
    expiry: false,
    validity: 'expired',
  },
  // 星光国际影城
  {
    key: 'cinema2d',
    m: 6,
    title: '2D电影票单人通兑券',
    included: [['2D电影票', 1]],
    weekdays: ALL,
    hours: ['09:00', '23:30'],
    reservation: false,
    notes: '可兑换任意2D场次，IMAX、4D及特殊场次除外；请在影院自助机或前台兑换。',
    price: 35,
    original: 60,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    key: 'imax',
    m: 6,
    title: 'IMAX双人观影套餐',
    included: [['IMAX电影票', 2], ['中份爆米花', 1], ['可乐（中杯）', 2]],
    weekdays: ALL,
    hours: ['09:00', '23:30'],
    reservation: false,
    notes: '需在影院前台兑换；首映日及特殊场次除外。',
    price: 128,
    original: 198,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    m: 6,
    title: '工作日早场电影票',
    included: [['2D电影票（12:00前开场）', 1]],
    weekdays: MON_FRI,
    hours: ['09:00', '12:00'],
    reservation: false,
    notes: '仅限工作日12:00前开场的2D场次；特价票不退不换。',
    price: 19.9,
    original: 45,
    anytime: false,
    expiry: false,
    validity: 'current',
  },
  {
    m: 6,
    title: '情侣观影套餐',
    included: [['2D电影票', 2], ['大份爆米花', 1], ['可乐（中杯）', 2]],
    weekdays: ALL,
    hours: ['09:00', '23:30'],
    reservation: false,
    notes: '过期未使用自动退款。',
    price: 88,
    original: 138,
    anytime: false,
    expiry: true,
    validity: 'expired',
  },
  // 银河影城
  {
    m: 7,
    title: '2D电影票单人通兑券',
    included: [['2D电影票', 1]],
    weekdays: ALL,
    hours: ['09:00', '23:30'],
    reservation: false,
    notes: '可兑换任意2D场次，特殊场次除外。',
    price: 29.9,
    original: 55,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    m: 7,
    title: '家庭观影套餐（4人）',
    included: [['2D电影票', 4], ['大份爆米花', 2], ['果汁', 4]],
    weekdays: ALL,
    hours: ['09:00', '22:00'],
    reservation: false,
    notes: '需一次性兑换4张票，同一场次使用。',
    price: 158,
    original: 240,
    anytime: true,
    expiry: false,
    validity: 'current',
  },
  {
    m: 7,
    title: '暑期学生专享票',
    included: [['2D电影票', 1]],
    weekdays: ALL,
    hours: ['09:00', '18:00'],
    reservation: false,
    notes: '需出示有效学生证；特价票不退不换。',
    price: 19.9,
    original: 40,
    anytime: false,
    expiry: false,
    validity: 'expired',
  },
  // 欢唱派量贩KTV
  {
    m: 8,
    title: '下午场小包3小时欢唱',
    included: [['小包欢唱3小时', 1], ['果盘', 1], ['纯生啤酒', 6]],
    weekdays: ALL,
    hours: ['12:00', '18:00'],
    reservation: true,
    notes: '需提前2小时电话预约；周末节假日通用，无需补差价。',
    price: 68,
    original: 168,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    m: 8,
    title: '黄金场中包3小时',
    included: [['中包欢唱3小时', 1], ['小吃拼盘', 1], ['纯生啤酒', 12]],
    weekdays: [1, 2, 3, 4, 7],
    hours: ['18:00', '23:00'],
    reservation: true,
    notes: '周五、周六不可用；需提前预约；超时按门市价计费。',
    price: 168,
    original: 368,
    anytime: true,
    expiry: false,
    validity: 'current',
  },
  {
    m: 8,
    title: '周末欢唱大包4小时',
    included: [['大包欢唱4小时', 1], ['果盘', 2], ['纯生啤酒', 24]],
    weekdays: [6, 7],
    hours: ['12:00', '23:00'],
    reservation: true,
    notes: '仅限周六、周日使用；特价活动，售出不退。',
    price: 298,
    original: 588,
    anytime: false,
    expiry: false,
    validity: 'current',
  },
  // 声临其境量贩KTV
  {
    m: 9,
    title: '欢唱小包3小时+小吃套餐',
    included: [['小包欢唱3小时', 1], ['小吃拼盘', 1], ['柠檬茶（扎）', 1]],
    weekdays: ALL,
    hours: ['10:00', '23:00'],
    reservation: false,
    notes: '无需预约，视包房情况安排；超时按门市价计费。',
    price: 58,
    original: 158,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    m: 9,
    title: '生日派对大包套餐',
    included: [['大包欢唱4小时', 1], ['生日蛋糕（8寸）', 1], ['果盘', 2], ['纯生啤酒', 12]],
    weekdays: ALL,
    hours: ['12:00', '23:00'],
    reservation: true,
    notes: '需提前1天预约并告知蛋糕口味；免费布置生日包房。',
    price: 268,
    original: 528,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    m: 9,
    title: '学生特惠欢唱券',
    included: [['小包欢唱2小时', 1]],
    weekdays: MON_FRI,
    hours: ['10:00', '17:00'],
    reservation: false,
    notes: '需出示有效学生证；仅限工作日白天；不退不换。',
    price: 29.9,
    original: 88,
    anytime: false,
    expiry: false,
    validity: 'expired',
  },
  // 麦香坊烘焙
  {
    key: 'cake',
    m: 10,
    title: '8寸鲜奶油蛋糕',
    included: [['8寸鲜奶油水果蛋糕', 1], ['生日蜡烛', 1], ['餐具', 5]],
    weekdays: ALL,
    hours: ['09:00', '21:00'],
    reservation: true,
    notes: '需提前1天预订口味与取货时间；可免费写祝福语。',
    price: 128,
    original: 198,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    m: 10,
    title: '100元面包代金券',
    included: [['100元代金券', 1]],
    weekdays: ALL,
    hours: ['08:00', '21:00'],
    reservation: false,
    notes: '全场面包、西点通用，蛋糕除外；可分次使用，不找零。',
    price: 85,
    original: 100,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    m: 10,
    title: '下午茶甜点双人套餐',
    included: [['手工甜点', 2], ['美式咖啡或红茶', 2]],
    weekdays: ALL,
    hours: ['13:00', '18:00'],
    reservation: false,
    notes: '仅限堂食。',
    price: 49,
    original: 76,
    anytime: true,
    expiry: false,
    validity: 'expiring',
  },
  {
    m: 10,
    title: '中秋月饼礼盒兑换券',
    included: [['广式月饼礼盒（8只装）', 1]],
    weekdays: ALL,
    hours: ['08:00', '21:00'],
    reservation: false,
    notes: '到店兑换礼盒；过期未兑换自动退款。',
    price: 168,
    original: 268,
    anytime: false,
    expiry: true,
    validity: 'expired',
  },
  // 暖阳汤泉养生馆
  {
    m: 11,
    title: '汤泉洗浴单人票',
    included: [['汤泉洗浴', 1], ['休息大厅', 1], ['水果茶饮', 1]],
    weekdays: ALL,
    hours: ['10:00', '23:00'],
    reservation: false,
    notes: '身高1.2米以下儿童免费；可在店内停留至次日8:00，无需补费。',
    price: 78,
    original: 158,
    anytime: true,
    expiry: true,
    validity: 'current',
  },
  {
    m: 11,
    title: '洗浴+汗蒸+自助餐双人套餐',
    included: [['汤泉洗浴', 2], ['汗蒸', 2], ['自助餐', 2]],
    weekdays: ALL,
    hours: ['10:00', '22:00'],
    reservation: false,
    notes: '自助餐时段11:00-14:00、17:00-20:30。',
    price: 258,
    original: 398,
    anytime: true,
    expiry: false,
    validity: 'current',
  },
  {
    m: 11,
    title: '平日搓澡+足疗套餐',
    included: [['搓澡', 1], ['足疗45分钟', 1]],
    weekdays: MON_FRI,
    hours: ['10:00', '22:00'],
    reservation: false,
    notes: '仅限周一至周五；特价套餐不退不换。',
    price: 98,
    original: 188,
    anytime: false,
    expiry: false,
    validity: 'current',
  },
];

interface CustomerSpec {
  name: string;
  birthYear: number;
  locale: 'zh-Hans' | 'zh-Hant' | 'en';
  email?: string;
  firstTime?: boolean;
}

const CUSTOMERS: readonly CustomerSpec[] = [
  { name: '王秀兰', birthYear: 1958, locale: 'zh-Hans', firstTime: true },
  { name: 'Emily Chen', birthYear: 1992, locale: 'en', email: 'emily.chen@example.com' },
  { name: '张伟', birthYear: 1985, locale: 'zh-Hans', email: 'zhangwei85@example.com' },
  { name: '李娜', birthYear: 1990, locale: 'zh-Hans', email: 'lina.1990@example.com' },
  { name: '刘洋', birthYear: 1988, locale: 'zh-Hans' },
  { name: '陈静', birthYear: 1995, locale: 'zh-Hans', email: 'chenjing@example.com' },
  { name: '杨帆', birthYear: 1979, locale: 'zh-Hans' },
  { name: '赵敏', birthYear: 1983, locale: 'zh-Hans' },
  { name: '黄磊', birthYear: 1970, locale: 'zh-Hans' },
  { name: '周杰', birthYear: 1998, locale: 'zh-Hans', email: 'zhoujie98@example.com' },
  { name: '吴芳', birthYear: 1962, locale: 'zh-Hans' },
  { name: '徐强', birthYear: 1975, locale: 'zh-Hans' },
  { name: '孙丽', birthYear: 1987, locale: 'zh-Hans' },
  { name: '马超', birthYear: 1993, locale: 'zh-Hans' },
  { name: '朱红梅', birthYear: 1956, locale: 'zh-Hans', firstTime: true },
  { name: '胡军', birthYear: 1981, locale: 'zh-Hans' },
  { name: '陳美玲', birthYear: 1986, locale: 'zh-Hant', email: 'meiling.chan@example.com' },
  { name: '林志豪', birthYear: 1991, locale: 'zh-Hant' },
  { name: 'James Wilson', birthYear: 1984, locale: 'en', email: 'james.wilson@example.com' },
  { name: 'Sophie Martin', birthYear: 1996, locale: 'en', email: 'sophie.martin@example.com' },
];

const TARGET_ORDERS = 300;
const CODE_CHARS = [...'ABCDEFGHJKLMNPQRSTUVWXYZ23456789']; // no 0/O or 1/I to misread
const REFUND_REASONS = ['计划有变', '临时有事去不了', '买多了', '不想要了', '朋友来不了了', null] as const;

// ---------------------------------------------------------------------------------------------
// Building

interface DemoData {
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
  | { state: 'refunded' | 'refund_pending'; policy: string; at: number; reason: string | null; decidedBy?: string };

function buildDemoData(seed: number, now: number): DemoData {
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
  const manager = agentRows.find((a) => a.role === 'manager');
  if (!manager) throw new Error('DEMO_ACCOUNTS needs a manager');

  const merchantRows: MerchantRow[] = MERCHANTS.map((m) => ({
    id: rng.uuid(),
    name: m.name,
    category: m.category,
    city: m.city,
    address: m.address,
    phone: m.phone,
    status: m.warned ? 'warned' : 'active',
    statusReason: m.warned ?? null,
    complaintCount: m.warned ? 9 : rng.weighted([[0, 5], [1, 3], [2, 2], [3, 1]] as const),
    createdAt: new Date(sec(now - rng.int(400, 1100) * DAY)),
  }));

  const dealRows: DealRow[] = [];
  const dealSpecs = new Map<string, { row: DealRow; spec: DealSpec }>();
  const dealByKey = new Map<string, DealRow>();
  for (const spec of DEALS) {
    const merchant = merchantRows[spec.m];
    if (!merchant) throw new Error(`deal ${spec.title}: no merchant ${spec.m}`);
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
      included: spec.included.map(([item, quantity]): DealItem => ({ item, quantity })),
      validFrom,
      validTo,
      weekdays: [...spec.weekdays],
      hoursFrom: spec.hours[0],
      hoursTo: spec.hours[1],
      reservationRequired: spec.reservation,
      usageNotes: spec.notes,
      priceCents: Math.round(spec.price * 100),
      originalPriceCents: Math.round(spec.original * 100),
      refundAnytime: spec.anytime,
      refundOnExpiry: spec.expiry,
      createdAt: new Date(sec(startOfCnDay(validFrom) - rng.int(1, 10) * DAY - rng.int(0, 12) * HOUR)),
    };
    dealRows.push(row);
    dealSpecs.set(row.id, { row, spec });
    if (spec.key) dealByKey.set(spec.key, row);
  }
  const dealKey = (key: string): DealRow => {
    const row = dealByKey.get(key);
    if (!row) throw new Error(`no demo deal ${key}`);
    return row;
  };

  const phones = new Set<string>(['13800000001', '13800000002']);
  const customerRows: CustomerRow[] = CUSTOMERS.map((c, i) => {
    let phone: string;
    if (i < 2) {
      phone = `1380000000${i + 1}`;
    } else {
      do phone = `138${rng.int(10_000_000, 99_999_999)}`;
      while (phones.has(phone));
      phones.add(phone);
    }
    return {
      id: i === 0 ? DEMO_SENIOR_CUSTOMER_ID : i === 1 ? DEMO_EN_CUSTOMER_ID : rng.uuid(),
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

  // --- Scenario: 王秀兰, the senior first-time user -------------------------------------------
  const senior = customer(0);
  const expiredDeal = dealKey('seniorExpired');
  const seniorExpiredAt = dayTime(addDays(expiredDeal.validTo, -rng.int(20, 40)), 14, 17);
  senior.createdAt = new Date(sec(seniorExpiredAt - DAY - rng.int(1, 5) * HOUR));
  addOrder(senior, expiredDeal, seniorExpiredAt, 1, 'wechat_pay', () => [{ state: 'expired' }]);
  const cinema = dealKey('cinema2d');
  addOrder(senior, cinema, dayTime(addDays(today, -rng.int(15, 25)), 9, 11), 2, 'wechat_pay', (o) => {
    const usedAt = mustUse(cinema, orderTime(o));
    return [
      { state: 'used', usedAt },
      { state: 'used', usedAt: usedAt + rng.int(5, 40) * 1000 },
    ];
  });
  addOrder(senior, dealKey('anniversary'), dayTime(addDays(today, -2), 19, 20), 1, 'wechat_pay', () => [{ state: 'unused' }]);

  // --- Scenario: Emily Chen, English; a partial refund of a two-coupon order --------------------
  const emily = customer(1);
  const spa = dealKey('spa');
  addOrder(emily, spa, dayTime(addDays(today, -rng.int(35, 50)), 12, 21), 1, 'alipay', (o) => [
    { state: 'used', usedAt: mustUse(spa, orderTime(o)) },
  ]);
  addOrder(emily, dealKey('imax'), dayTime(addDays(today, -6), 19, 21), 2, 'alipay', () => [
    { state: 'unused' },
    { state: 'refunded', policy: 'refund_anytime', at: dayTime(addDays(today, -5), 9, 11), reason: 'My friend cannot come' },
  ]);

  // --- Scenario: 张伟, unusually many refunds recently: the latest one waits for an agent --------
  const zhang = customer(2);
  for (const [i, key] of (['cinema2d', 'footMassage', 'imax'] as const).entries()) {
    const deal = dealKey(key);
    const day = addDays(today, -18 + i * 4);
    addOrder(zhang, deal, dayTime(day, 10, 20), 1, 'alipay', () => [
      { state: 'refunded', policy: 'refund_anytime', at: dayTime(addDays(day, 1), 9, 21), reason: rng.pick(REFUND_REASONS) },
    ]);
  }
  addOrder(zhang, dealKey('footMassage'), dayTime(addDays(today, -3), 10, 20), 1, 'alipay', () => [
    { state: 'refund_pending', policy: 'review:frequent_refunds', at: sec(now - rng.int(3, 8) * HOUR), reason: '临时有事去不了' },
  ]);

  // --- Scenario: 李娜, a large refund approved by the manager ------------------------------------
  addOrder(customer(3), dealKey('banquet'), dayTime(addDays(today, -30), 10, 20), 1, 'bank_card', () => [
    {
      state: 'refunded',
      policy: 'review:large_amount',
      at: dayTime(addDays(today, -28), 9, 12),
      reason: '家庭聚会取消',
      decidedBy: manager.id,
    },
  ]);

  // --- Scenario: 朱红梅, another first-time senior: one fresh order ------------------------------
  addOrder(customer(14), dealKey('cake'), dayTime(addDays(today, -1), 9, 12), 1, 'wechat_pay', () => [{ state: 'unused' }]);

  // --- Everyone else: ordinary orders over the last 120 days ------------------------------------
  const pool = customerRows
    .map((c, i) => ({ c, i }))
    .filter(({ c, i }) => i > 1 && !c.firstTimeUser)
    .map(({ c }) => [c, rng.int(1, 5)] as const);
  const horizon = now - 120 * DAY;
  const windows = dealRows
    .map((deal) => ({
      deal,
      from: Math.max(horizon, startOfCnDay(deal.validFrom)),
      to: Math.min(now - HOUR, endOfCnDay(deal.validTo) - DAY),
    }))
    .filter((w) => w.to > w.from + DAY)
    .map((w) => [w, 1] as const);

  while (orderRows.length < TARGET_ORDERS) {
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
          if (hi > lo) return { state: 'refunded', policy: 'refund_anytime', at: lo + rng.float() * (hi - lo), reason: rng.pick(REFUND_REASONS) };
        }
        if (expired) {
          if (deal.refundOnExpiry) return { state: 'refunded', policy: 'refund_on_expiry', at: expiresAt + rng.int(1, 30) * MINUTE, reason: null };
          return { state: 'expired' };
        }
        if (deal.refundAnytime && r > 0.975 && now - bought > 6 * HOUR) {
          // A large amount waits for an agent's review; otherwise it would have been approved.
          const at = Math.max(bought + HOUR, now - rng.int(2, 20) * HOUR);
          const policy = deal.priceCents >= 50_000 ? 'review:large_amount' : 'review:frequent_refunds';
          return { state: 'refund_pending', policy, at, reason: rng.pick(REFUND_REASONS) };
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
