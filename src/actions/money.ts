import type { PaymentMethod } from './ports.js';

/** An amount as the bot tells it: cents for arithmetic, yuan as a formatted string for people. */
export interface Money {
  cents: number;
  /** `398.00` */
  yuan: string;
  /** `¥398.00` */
  text: string;
}

/** Formats cents as yuan with two decimals. */
export function money(cents: number): Money {
  const yuan = (cents / 100).toFixed(2);
  return { cents, yuan, text: `¥${yuan}` };
}

const DAY = 86_400_000;
const CN_OFFSET = 8 * 3_600_000;

/** The China-local calendar date of an instant, `YYYY-MM-DD` (merchants and consumers live in UTC+8). */
export function cnDate(at: Date): string {
  return new Date(at.getTime() + CN_OFFSET).toISOString().slice(0, 10);
}

/** When refunded money arrives, in working days, by how the order was paid. */
export interface Arrival {
  minWorkingDays: number;
  maxWorkingDays: number;
  /** The latest China-local date the money should arrive. */
  byDate: string;
  by: Date;
}

const ARRIVAL_DAYS: Record<PaymentMethod, readonly [number, number]> = {
  wechat_pay: [1, 3],
  alipay: [1, 3],
  bank_card: [3, 7],
};

/** Expected arrival of a refund approved at `now` to the original payment method. */
export function refundArrival(paymentMethod: PaymentMethod, now: Date): Arrival {
  const [min, max] = ARRIVAL_DAYS[paymentMethod];
  let t = now.getTime();
  let left = max;
  while (left > 0) {
    t += DAY;
    const weekday = new Date(t + CN_OFFSET).getUTCDay();
    if (weekday !== 0 && weekday !== 6) left -= 1;
  }
  const by = new Date(t);
  return { minWorkingDays: min, maxWorkingDays: max, byDate: cnDate(by), by };
}
