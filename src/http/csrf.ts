import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { AppError } from '../core/errors.js';
import { errorResponse } from './errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface CsrfOptions {
  /** The cookie that authenticates browsers (the console session). */
  sessionCookie: string;
  /** Origins that count as ours besides the request's own (PUBLIC_URL behind a proxy). */
  trustedOrigins: string[];
  /** Paths that take JSON without a session (login): cross-site posts to them are refused too. */
  credentialPaths: string[];
}

/**
 * Refuses cross-site state changes made with the browser's session cookie. A request that
 * changes state and authenticates by cookie (no `Authorization` header) must send
 * `application/json` — which a cross-site form cannot without a CORS preflight we never allow —
 * and come from our own origin, shown by `Origin` or `Sec-Fetch-Site: same-origin`. SameSite=Lax
 * alone does not cover it: another port of the same host is the same site. Bearer clients
 * (scripts, the web chat with its `wc_` token) are unaffected: a browser never adds that header
 * across origins on its own.
 */
export function csrfProtection(options: CsrfOptions): MiddlewareHandler {
  const trusted = new Set(options.trustedOrigins.map(originOf).filter((o): o is string => o !== null));
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();
    const byCookie = c.req.header('authorization') === undefined && getCookie(c, options.sessionCookie) !== undefined;
    const credentialPath = options.credentialPaths.includes(c.req.path);
    if (!byCookie && !credentialPath) return next();

    const origin = c.req.header('origin');
    const fetchSite = c.req.header('sec-fetch-site');
    const ownOrigin = originOf(c.req.url);
    const sameOrigin =
      (origin !== undefined && origin !== 'null' && (origin === ownOrigin || trusted.has(origin))) ||
      (origin === undefined && fetchSite === 'same-origin');
    const crossSite = (origin !== undefined && !sameOrigin) || (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none');
    const json = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json';

    // Logging in needs no cookie, but a cross-site login would sign the victim in as the attacker.
    const refused = byCookie ? !json || !sameOrigin || crossSite : !json || crossSite;
    if (refused) {
      return errorResponse(
        c,
        new AppError('forbidden', 'Cross-site request refused: send application/json from the console itself, or use an Authorization header'),
      );
    }
    return next();
  };
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}
