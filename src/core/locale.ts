import type { Locale } from './message.js';

// Characters common in Traditional Chinese text whose Simplified forms differ.
const TRADITIONAL = /[們個這來時說對話請問麼還裡嗎錢號碼訂單優惠券退款設備幫會員電郵帳戶務驗證聯絡沒與為關應當點開給讓經過錯誤謝]/u;
const SIMPLIFIED = /[们个这来时说对话请问么还里吗钱号码订单优惠券退款设备帮会员电邮账户务验证联络没与为关应当点开给让经过错误谢]/u;
const HAN = /\p{Script=Han}/u;
const LATIN = /[A-Za-z]{2,}/;

/** Guesses the locale of a consumer's text; null when it gives no clue (digits, emoji). */
export function detectLocale(text: string): Locale | null {
  if (HAN.test(text)) {
    const trad = countMatches(text, TRADITIONAL);
    const simp = countMatches(text, SIMPLIFIED);
    return trad > simp ? 'zh-Hant' : 'zh-Hans';
  }
  if (LATIN.test(text)) return 'en';
  return null;
}

function countMatches(text: string, pattern: RegExp): number {
  let n = 0;
  for (const ch of text) if (pattern.test(ch)) n += 1;
  return n;
}
