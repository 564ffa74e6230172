import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

export interface SecurityHeaderOptions {
  /**
   * Who may frame a page, by path: the console and admin nobody ('none'); the web chat page
   * 'self' unless configured otherwise (an embedding widget lists the host sites' origins).
   */
  frameAncestors(path: string): string;
}

const INLINE = /<(script|style)(\s[^>]*)?>([\s\S]*?)<\/\1>/gi;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * Headers every answer gets (nosniff, no Referer leaving the site with case ids in it), and for
 * HTML pages a Content-Security-Policy that allows exactly the page's own inline scripts (by
 * hash) and nothing injected. Scripts and other assets are not restricted by origin here, so a
 * widget script can still be loaded by other sites.
 */
export function securityHeaders(options: SecurityHeaderOptions): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
    c.res.headers.set('Referrer-Policy', 'no-referrer');
    if (!(c.res.headers.get('content-type') ?? '').startsWith('text/html')) return;
    const html = await c.res.clone().text();
    const scripts: string[] = [];
    for (const m of html.matchAll(INLINE)) {
      if (m[1]?.toLowerCase() === 'script' && !/\bsrc=/i.test(m[2] ?? '')) scripts.push(sha256(m[3] ?? ''));
    }
    const ancestors = options.frameAncestors(c.req.path);
    const policy = [
      "default-src 'self'",
      `script-src 'self' ${[...new Set(scripts)].join(' ')}`.trim(),
      // Inline <style> blocks and style changes made by our own scripts.
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data: blob:",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      `frame-ancestors ${ancestors}`,
    ].join('; ');
    c.res.headers.set('Content-Security-Policy', policy);
    if (ancestors === "'none'") c.res.headers.set('X-Frame-Options', 'DENY');
  };
}
