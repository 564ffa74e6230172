/** Where the console goes after login when `next` is missing or not a same-origin path. */
export const CONSOLE_HOME = '/console';

// Any base works: only whether the parsed URL stays on it matters.
const BASE = 'http://kefu.invalid';

/**
 * The `next` target of the login page, reduced to a same-origin path. `javascript:` URLs,
 * absolute and protocol-relative URLs (`//evil`, `/\evil`, which browsers treat alike) and
 * anything with control characters fall back to the console home: following them would run
 * script in the console origin or send a freshly logged-in agent to another site.
 */
export function safeNextPath(raw: string | undefined | null): string {
  if (!raw || raw.length > 2000) return CONSOLE_HOME;
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\')) return CONSOLE_HOME;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) return CONSOLE_HOME;
  let url: URL;
  try {
    url = new URL(raw, BASE);
  } catch {
    return CONSOLE_HOME;
  }
  if (url.origin !== BASE) return CONSOLE_HOME;
  return `${url.pathname}${url.search}${url.hash}`;
}
