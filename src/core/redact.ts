import { maskSecrets } from './mask.js';

// Telegram bot tokens (`<bot id>:<35 chars>`), also inside Bot API URLs (`/bot<token>/sendMessage`).
const BOT_TOKEN = /\b(bot)?\d{5,}:[A-Za-z0-9_-]{20,}/g;
// Authorization values and credentials in URLs (smtp://user:pass@host, postgres://user:pass@host).
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]*@/gi;
// Our own session and web chat tokens.
const KEFU_TOKENS = /\b(ks|wc)_[A-Za-z0-9_-]{16,}/g;
// Drizzle appends the statement's parameters (message texts, names, subjects) to its error message.
const SQL_PARAMS = /\nparams: [\s\S]*$/;

/**
 * Removes secrets from a text bound for a log line or an error column: tokens, credentials in
 * URLs, SQL parameters, and ID/card numbers, passwords or codes a consumer typed that an error
 * happens to echo. Used for every stored delivery error and every logged error.
 */
export function redactSecrets(text: string): string {
  const cut = text.replace(SQL_PARAMS, '\nparams: [redacted]');
  return maskSecrets(
    cut
      .replace(BOT_TOKEN, (_m, bot: string | undefined) => `${bot ?? ''}[redacted token]`)
      .replace(BEARER, (_m, scheme: string) => `${scheme} [redacted]`)
      .replace(URL_CREDENTIALS, '$1[redacted]@')
      .replace(KEFU_TOKENS, '$1_[redacted]'),
  );
}

/**
 * The same for a serialized JSON log line, cheap enough for every line: tokens and SQL parameters
 * only (JSON escapes a newline as `\n`, hence the different parameter pattern).
 */
export function redactLogLine(line: string): string {
  return line
    .replace(/\\nparams: (?:[^"\\]|\\.)*/g, '\\nparams: [redacted]')
    .replace(BOT_TOKEN, (_m, bot: string | undefined) => `${bot ?? ''}[redacted token]`)
    .replace(BEARER, (_m, scheme: string) => `${scheme} [redacted]`)
    .replace(URL_CREDENTIALS, '$1[redacted]@')
    .replace(KEFU_TOKENS, '$1_[redacted]');
}
