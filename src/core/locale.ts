import { hanScriptCounts } from './han-variants.js';
import type { Locale } from './message.js';

const HAN = /\p{Script=Han}/u;
const LATIN_WORD = /[A-Za-z]{2,}/;
// Order numbers and coupon codes are Latin letters but say nothing about the consumer's language.
const CODES = /\b(?:kf[\s-]*\d[\d\s-]{7,}|[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})\b/gi;

/** Guesses the locale of a consumer's text; null when it gives no clue (digits, emoji, a bare code). */
export function detectLocale(text: string): Locale | null {
  if (HAN.test(text)) {
    const { traditional, simplified } = hanScriptCounts(text);
    return traditional > simplified ? 'zh-Hant' : 'zh-Hans';
  }
  if (LATIN_WORD.test(text.replace(CODES, ' '))) return 'en';
  return null;
}
