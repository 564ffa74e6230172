import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** What a merchant response link grants: one complaint of one merchant, until `exp` (epoch seconds). */
export const LinkClaims = z.object({ c: z.uuid(), m: z.uuid(), exp: z.number().int().positive() });
export type LinkClaims = z.infer<typeof LinkClaims>;

function mac(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(`merchant-link.v1.${payload}`).digest('base64url');
}

/** Signs a response link token: base64url(JSON claims) + "." + HMAC-SHA256. No account needed to use it. */
export function signMerchantLink(secret: string, claims: { complaintId: string; merchantId: string; expiresAt: Date }): string {
  const payload = Buffer.from(
    JSON.stringify({ c: claims.complaintId, m: claims.merchantId, exp: Math.floor(claims.expiresAt.getTime() / 1000) }),
  ).toString('base64url');
  return `${payload}.${mac(secret, payload)}`;
}

export type LinkCheck =
  | { ok: true; claims: LinkClaims }
  | { ok: false; reason: 'invalid' | 'expired' | 'other_complaint' };

/**
 * Verifies a token for the complaint in the URL: a forged or altered token is `invalid`, a token
 * past its time `expired`, a valid token for a different complaint `other_complaint` (a merchant
 * cannot use its link to read another merchant's complaint).
 */
export function verifyMerchantLink(secret: string, token: string, complaintId: string, now: Date): LinkCheck {
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return { ok: false, reason: 'invalid' };
  const expected = Buffer.from(mac(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'invalid' };
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  const claims = LinkClaims.safeParse(raw);
  if (!claims.success) return { ok: false, reason: 'invalid' };
  if (claims.data.c !== complaintId) return { ok: false, reason: 'other_complaint' };
  if (claims.data.exp * 1000 <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, claims: claims.data };
}
