import type { Locale } from '../core/message.js';

/** Default time zone for dates shown to people (consumers and agents are in mainland China by default). */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/** A date as people of `locale` write it: `12月7日（周一）`, `12月7日（週一）`, `Mon, Dec 7`. */
export function formatDay(locale: Locale, date: Date, timeZone: string = DEFAULT_TIME_ZONE): string {
  if (locale === 'en') {
    return new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', month: 'short', day: 'numeric' }).format(date);
  }
  const parts = new Intl.DateTimeFormat(locale === 'zh-Hant' ? 'zh-TW' : 'zh-CN', {
    timeZone,
    month: 'numeric',
    day: 'numeric',
    weekday: 'short',
  }).formatToParts(date);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('month')}月${get('day')}日（${get('weekday')}）`;
}

/** Date and time for staff screens: `2026年12月2日 15:40`, `Dec 2, 2026, 15:40`. */
export function formatDateTime(locale: Locale, date: Date, timeZone: string = DEFAULT_TIME_ZONE): string {
  const tag = locale === 'en' ? 'en-US' : locale === 'zh-Hant' ? 'zh-TW' : 'zh-CN';
  return new Intl.DateTimeFormat(tag, {
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
