import { eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { Locale } from '../core/message.js';
import type { DbOrTx } from '../db/client.js';
import { agents } from '../db/schema.js';
import { loadCatalog, type Vars } from '../i18n/catalog.js';
import { DEFAULT_TIME_ZONE, formatDateTime, formatDay, formatMoney } from '../i18n/format.js';

/** The console's wording area: `locales/<locale>/console.yaml`. */
export const CONSOLE_AREA = 'console';

/** Everything a staff page needs to speak the person's language: their locale, a translator, dates. */
export interface DeskText {
  locale: Locale;
  timeZone: string;
  /** The `lang` attribute for `<html>`. */
  htmlLang: string;
  t(key: string, vars?: Vars): string;
  dateTime(at: Date | string): string;
  day(at: Date | string): string;
  money(cents: number): string;
}

/** A `DeskText` for one locale, wording from `locales/<locale>/<area>.yaml` (default: the console's). */
export function deskText(locale: Locale, timeZone: string = DEFAULT_TIME_ZONE, area: string = CONSOLE_AREA): DeskText {
  const catalog = loadCatalog(area);
  const date = (at: Date | string) => (typeof at === 'string' ? new Date(at) : at);
  return {
    locale,
    timeZone,
    htmlLang: locale === 'zh-Hans' ? 'zh-CN' : locale === 'zh-Hant' ? 'zh-TW' : 'en',
    t: catalog.bind(locale),
    dateTime: (at) => formatDateTime(locale, date(at), timeZone),
    day: (at) => formatDay(locale, date(at), timeZone),
    money: formatMoney,
  };
}

/** The console language a staff member chose (zh-Hans until they choose). */
export async function agentLocale(db: DbOrTx, agentId: string): Promise<Locale> {
  const [row] = await db.select({ locale: agents.locale }).from(agents).where(eq(agents.id, agentId)).limit(1);
  return row?.locale ?? 'zh-Hans';
}

/** Remembers a staff member's console language on their agent row. */
export async function setAgentLocale(db: DbOrTx, agentId: string, locale: Locale): Promise<void> {
  await db.update(agents).set({ locale }).where(eq(agents.id, agentId));
}

/** Cookie that carries the chosen language to pages shown before login (the login page itself). */
export const LOCALE_COOKIE = 'kefu_console_lang';

/**
 * The language for a page without a logged-in person: `?lang=`, then the cookie set at the last
 * switch, then zh-Hans.
 */
export function anonymousLocale(c: Context): Locale {
  const wanted = Locale.safeParse(c.req.query('lang') ?? getCookie(c, LOCALE_COOKIE));
  return wanted.success ? wanted.data : 'zh-Hans';
}

/**
 * For other staff pages (after-sales merchant pages, the studio): the current person's locale and
 * translator in one call. `area` picks the wording file (`locales/<locale>/<area>.yaml`).
 */
export async function deskTextFor(db: DbOrTx, agentId: string, options: { timeZone?: string; area?: string } = {}): Promise<DeskText> {
  return deskText(await agentLocale(db, agentId), options.timeZone ?? DEFAULT_TIME_ZONE, options.area ?? CONSOLE_AREA);
}
