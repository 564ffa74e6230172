import { formatDay, formatFullDay, readDay } from '../core/dates.js';
import type { Locale } from '../core/message.js';
import type { Text } from './flow-schema.js';

const VAR = /\{\{\s*([a-zA-Z][a-zA-Z0-9_]*(?:\.[a-zA-Z0-9_]+)*)(\?)?\s*(?:\|\s*([a-z]+)\s*)?\}\}/g;

/** Formatting filters a template may apply: `{{refund.amountCents | yuan}}`. A closed set. */
export const FILTERS = {
  /** Cents to yuan with two decimals: 8800 -> 88.00. */
  yuan: (v: unknown) => (typeof v === 'number' ? (v / 100).toFixed(2) : show(v)),
  /**
   * A calendar date (`2026-12-07`, a day in UTC+8) or an ISO timestamp as the consumer reads dates:
   * `12月7日（周一）`, `12月7日（週一）`, `Mon, Dec 7` (src/core/dates.ts).
   */
  date: (v: unknown, locale: Locale) => {
    const d = readDay(v);
    return d ? formatDay(locale, d) : show(v);
  },
  /** The same with the year, for dates that may lie in another year (validity): `2027年1月13日（周三）`, `Wed, Jan 13, 2027`. */
  fulldate: (v: unknown, locale: Locale) => {
    const d = readDay(v);
    return d ? formatFullDay(locale, d) : show(v);
  },
  /** Included items: [{item, quantity}] -> "item ×2, item ×1". */
  items: (v: unknown) =>
    Array.isArray(v) ? v.map((i: unknown) => `${show(readPath({ i }, 'i.item'))} ×${show(readPath({ i }, 'i.quantity'))}`).join(', ') : show(v),
  /** Coupon codes of a list of coupons: [{code}] -> "AB12-…, CD34-…". */
  codes: (v: unknown) => (Array.isArray(v) ? v.map((i: unknown) => show(readPath({ i }, 'i.code'))).join(', ') : show(v)),
  /** Number of elements of a list. */
  count: (v: unknown) => (Array.isArray(v) ? String(v.length) : show(v)),
} satisfies Record<string, (v: unknown, locale: Locale) => string>;
export type FilterName = keyof typeof FILTERS;

function isFilter(name: string): name is FilterName {
  return Object.hasOwn(FILTERS, name);
}
const ONLY_VAR = /^\{\{\s*([a-zA-Z][a-zA-Z0-9_]*(?:\.[a-zA-Z0-9_]+)*)\??\s*\}\}$/;

/** The variables a template uses (`{{order.number}}` -> `order.number`). */
export function templateVars(template: string): { path: string; optional: boolean; filter: string | null }[] {
  return [...template.matchAll(VAR)].map((m) => ({ path: m[1] ?? '', optional: m[2] === '?', filter: m[3] ?? null }));
}

/** Reads a dotted path from a bag of values; undefined when any part is missing. */
export function readPath(values: Record<string, unknown>, path: string): unknown {
  let current: unknown = values;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Object.hasOwn(current, part) ? Reflect.get(current, part) : undefined;
  }
  return current;
}

function show(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map(show).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * Fills `{{var}}` placeholders; missing values render empty (flows check reports them beforehand).
 * `locale` is the reader's, for filters that word values (`date`).
 */
export function render(template: string, values: Record<string, unknown>, locale: Locale = 'zh-Hans'): string {
  return template.replace(VAR, (_m, path: string, _optional: string | undefined, filter: string | undefined) => {
    const value = readPath(values, path);
    return filter && isFilter(filter) ? FILTERS[filter](value, locale) : show(value);
  });
}

/** A template that is exactly one variable yields the raw value (arrays, numbers); otherwise the rendered string. */
export function resolveValue(template: string | number | boolean, values: Record<string, unknown>): unknown {
  if (typeof template !== 'string') return template;
  const only = ONLY_VAR.exec(template.trim());
  if (only?.[1]) return readPath(values, only[1]);
  return render(template, values);
}

/** Picks the wording for a locale, falling back to another locale when a translation is missing. */
export function pickText(text: Text, locale: Locale): string {
  return text[locale] ?? (locale === 'zh-Hant' ? text['zh-Hans'] : undefined) ?? text.en ?? text['zh-Hans'] ?? text['zh-Hant'] ?? '';
}
