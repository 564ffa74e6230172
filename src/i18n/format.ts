import type { Locale } from '../core/message.js';

import { DEFAULT_TIME_ZONE, dateTimeFormat } from '../core/dates.js';

// Days as consumers read them live in src/core (the flow engine's `date` filter uses them too).
export { DEFAULT_TIME_ZONE, formatDay, formatFullDay } from '../core/dates.js';

/** Date and time for staff screens: `2026年12月2日 15:40`, `Dec 2, 2026, 15:40`. */
export function formatDateTime(locale: Locale, date: Date, timeZone: string = DEFAULT_TIME_ZONE): string {
  const tag = locale === 'en' ? 'en-US' : locale === 'zh-Hant' ? 'zh-TW' : 'zh-CN';
  return dateTimeFormat(tag, {
    timeZone,
    year: 'numeric',
    month: locale === 'en' ? 'short' : 'numeric',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(date);
}

/** An amount in fen as a consumer reads it: `¥398.00`. */
export function formatMoney(cents: number): string {
  return `¥${(cents / 100).toFixed(2)}`;
}
