/** Default time zone for dates shown to people (consumers and agents are in mainland China by default). */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

type DayLocale = 'zh-Hans' | 'zh-Hant' | 'en';

const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * A date format, built once per language, time zone and shape: building one costs about 30 times
 * as much as using it, and a turn that lists a customer's orders formats several dates.
 */
export function dateTimeFormat(tag: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${tag} ${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(tag, options);
    formats.set(key, format);
  }
  return format;
}

/** A date as people of `locale` write it: `12月7日（周一）`, `12月7日（週一）`, `Mon, Dec 7`. */
export function formatDay(locale: DayLocale, date: Date, timeZone: string = DEFAULT_TIME_ZONE): string {
  return dayText(locale, date, timeZone, false);
}

/**
 * With the year, for dates that may lie in another year (a deal valid until next January):
 * `2027年1月13日（周三）`, `2027年1月13日（週三）`, `Wed, Jan 13, 2027`.
 */
export function formatFullDay(locale: DayLocale, date: Date, timeZone: string = DEFAULT_TIME_ZONE): string {
  return dayText(locale, date, timeZone, true);
}

function dayText(locale: DayLocale, date: Date, timeZone: string, withYear: boolean): string {
  if (locale === 'en') {
    return dateTimeFormat('en-US', { timeZone, weekday: 'short', month: 'short', day: 'numeric', ...(withYear ? { year: 'numeric' } : {}) }).format(date);
  }
  const parts = dateTimeFormat(locale === 'zh-Hant' ? 'zh-TW' : 'zh-CN', {
    timeZone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    weekday: 'short',
  }).formatToParts(date);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${withYear ? `${get('year')}年` : ''}${get('month')}月${get('day')}日（${get('weekday')}）`;
}

const CALENDAR_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads a date value as data carries it: a calendar date `2026-12-07` (a day in the platform's
 * time zone, UTC+8) or an ISO timestamp / Date (an instant). Null when it is neither.
 */
export function readDay(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value !== 'string') return null;
  const d = new Date(CALENDAR_DATE.test(value) ? `${value}T12:00:00+08:00` : value);
  return Number.isNaN(d.getTime()) ? null : d;
}
