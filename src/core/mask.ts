/**
 * Masks personal data a consumer might type (card, ID and phone numbers, passwords, SMS codes)
 * before the text is logged or sent to an LLM. Keeps the last digits so agents can still
 * match. Idempotent: masking masked text changes nothing.
 */
export function maskPersonalData(text: string): string {
  return untilStable(text, (t) => maskPhones(maskSecrets(t)));
}

/**
 * Masks what must never be stored at all (ID and card numbers, passwords, SMS codes) and keeps
 * phone numbers: a consumer who asks to be called back types one, and the agent needs it.
 * Used at intake, before a message is written to the database.
 */
export function maskSecrets(text: string): string {
  return untilStable(text, (t) => {
    const { text: guarded, restore } = protectPhones(t);
    return restore(maskSecretsOnce(guarded));
  });
}

// Masking can expose a new match next to a placeholder ("4password: x"); repeat until stable.
function untilStable(text: string, once: (t: string) => string): string {
  let current = text;
  for (let i = 0; i < 4; i += 1) {
    const next = once(current);
    if (next === current) return next;
    current = next;
  }
  return current;
}

// Mainland mobile numbers (optionally +86) and international numbers with a plus sign: guarded
// before cards are looked for, so "+86 138 1234 5678" is never read as a 13-digit card.
const MOBILE_PHONES = [/(?<![\d])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![\d])/g, /\+\d[\d -]{7,16}\d(?!\d)/g];
// Mainland landlines with an area code (010-12345678, 0755 1234 5678): matched only after cards,
// whose digit groups can look like one.
const LANDLINE = /(?<![\d])0\d{2,3}[ -]\d{3,4}[ -]?\d{4}(?![\d])/g;

function maskPhones(text: string): string {
  let out = text;
  for (const pattern of [...MOBILE_PHONES, LANDLINE]) {
    out = out.replace(pattern, (m) => `[phone ****${m.replace(/\D/g, '').slice(-4)}]`);
  }
  return out;
}

/**
 * Swaps phone numbers for placeholders while the secret patterns run, so "+86 138 1234 5678"
 * is never read as a 13-digit card; `restore` puts them back.
 */
function protectPhones(text: string): { text: string; restore: (t: string) => string } {
  const saved: string[] = [];
  let out = text;
  for (const pattern of MOBILE_PHONES) {
    out = out.replace(pattern, (m) => {
      saved.push(m);
      return `\u0000${saved.length - 1}\u0000`;
    });
  }
  return { text: out, restore: (t) => t.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => saved[Number(i)] ?? '') };
}

function maskSecretsOnce(text: string): string {
  return (
    text
      // Chinese resident ID: 6-digit area, birth date 18xx–20xx, 3 digits + digit/X (spaces allowed).
      .replace(
        /(?<![\dA-Za-z])\d{6}[ ]?(?:18|19|20)\d{2}[ ]?[01]\d[0-3]\d[ ]?\d{3}[\dXx](?![\dA-Za-z])/g,
        (m) => `[ID ****${m.replace(/\s/g, '').slice(-4)}]`,
      )
      // Hong Kong ID card: A123456(7); Taiwan ID: A123456789 (letter, 1/2, 8 digits).
      .replace(/(?<![A-Za-z\d])[A-Z]{1,2}\d{6}[(（][\dA][)）]/g, (m) => `[ID ****${m.replace(/[^\dA]/g, '').slice(-4)}]`)
      .replace(/(?<![A-Za-z\d])[A-Z][12]\d{8}(?![\d])/g, (m) => `[ID ****${m.slice(-4)}]`)
      // Bank cards: 13–19 digits, optionally grouped by spaces or dashes.
      .replace(/(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])/g, (m) => {
        const digits = m.replace(/\D/g, '');
        return digits.length >= 13 ? `[card ****${digits.slice(-4)}]` : m;
      })
      // One-time SMS codes: "验证码 123456", "verification code is 123456".
      .replace(/((?:验证码|驗證碼|校验码|校驗碼|\b(?:verification code|sms code|otp))\s*(?:is|是|为|為|:|：)?\s*)\d{4,8}(?!\d)/giu, '$1[code hidden]')
      // "password: xyz", "password is xyz" (a separator is required in English so "forgot my
      // password and …" keeps its words); "密码是 xyz", "密碼：xyz", "密码123abc".
      .replace(/(?<!\[)(\b(?:password|passcode|pwd|pin)\s*(?:is|=|:|：)\s*)(?!\[)\S+/giu, '$1[password hidden]')
      .replace(/(?<!\[)((?:密码|密碼|口令)\s*(?:是|为|為|:|：)?\s*)(?!\[)[!-~]+/gu, '$1[password hidden]')
  );
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

/** Replaces email addresses with a placeholder that keeps the first character and the domain. */
export function maskEmails(text: string): string {
  return text.replace(EMAIL, (m) => {
    const at = m.indexOf('@');
    return `[email ${m.slice(0, 1)}***${m.slice(at)}]`;
  });
}

/**
 * Everything that leaves kefu for an LLM: personal data as for storage, plus email addresses
 * (kept in stored messages because agents answer by mail; never needed to classify a message).
 */
export function maskForLlm(text: string): string {
  return maskPersonalData(maskEmails(text));
}
