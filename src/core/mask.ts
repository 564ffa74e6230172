/**
 * Masks personal data a consumer might type (card, ID and phone numbers, passwords) before
 * the text is stored, logged or sent to an LLM. Keeps the last digits so agents can still match.
 */
export function maskPersonalData(text: string): string {
  return (
    text
      // Chinese resident ID: 17 digits + digit/X.
      .replace(/(?<![\d])(\d{6})\d{8}(\d{3}[\dXx])(?![\d])/g, (_m, _a: string, tail: string) => `[ID ****${tail.slice(-4)}]`)
      // Bank cards: 13–19 digits, optionally grouped by spaces or dashes.
      .replace(/(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])/g, (m) => {
        const digits = m.replace(/\D/g, '');
        return digits.length >= 13 ? `[card ****${digits.slice(-4)}]` : m;
      })
      // Mainland mobile numbers (optionally +86) and international numbers with a plus sign.
      .replace(/(?<![\d])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![\d])/g, (m) => `[phone ****${m.replace(/\D/g, '').slice(-4)}]`)
      .replace(/\+\d[\d -]{7,16}\d/g, (m) => `[phone ****${m.replace(/\D/g, '').slice(-4)}]`)
      // "password: xyz" / "密码是 xyz" / "密碼：xyz"
      .replace(/((?:password|passcode|pwd|密码|密碼|口令)\s*(?:is|是|为|為|:|：)?\s*)\S+/giu, '$1[password hidden]')
  );
}
