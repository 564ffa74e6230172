import type { Locale } from '../core/message.js';
import { LOCALES, loadCatalog } from './catalog.js';

/** The web chat page's and widget's labels in every locale, flat (`senior.on`), for the JSON bundle they fetch. */
export function webchatLabels(): Record<Locale, Record<string, string>> {
  const catalog = loadCatalog('webchat');
  const bundle: Partial<Record<Locale, Record<string, string>>> = {};
  for (const locale of LOCALES) bundle[locale] = Object.fromEntries(catalog.keys(locale));
  return { 'zh-Hans': bundle['zh-Hans'] ?? {}, 'zh-Hant': bundle['zh-Hant'] ?? {}, en: bundle.en ?? {} };
}
