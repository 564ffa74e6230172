/**
 * Reading `Authentication-Results` (RFC 8601) for a DMARC verdict on the From domain.
 *
 * Anyone can write such a header into their own mail, so only a header written by a receiving
 * server we trust counts: its authserv-id must be configured (EMAIL_TRUSTED_AUTHSERV_ID), and that
 * server must remove headers claiming its id from incoming mail (RFC 8601 §5). Servers prepend
 * their header, so only the topmost Authentication-Results is read: one written further down, by
 * the sender, is never looked at.
 */

/** One `method=result` of a header with its properties (`header.from`, `smtp.mailfrom`, …). */
interface ResultInfo {
  method: string;
  result: string;
  props: Map<string, string>;
}

/** Strips RFC 5322 comments `( … )`, nested ones too. */
function stripComments(value: string): string {
  let out = value;
  for (let i = 0; i < 10; i += 1) {
    const next = out.replace(/\([^()]*\)/g, ' ');
    if (next === out) break;
    out = next;
  }
  return out;
}

/** Parses one header value into its authserv-id and result infos. */
export function parseAuthenticationResults(value: string): { authservId: string; results: ResultInfo[] } {
  const parts = stripComments(value.replace(/\r?\n[ \t]+/g, ' ')).split(';');
  const authservId = (parts[0] ?? '').trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  const results: ResultInfo[] = [];
  for (const part of parts.slice(1)) {
    const tokens = part.trim().split(/\s+/).filter(Boolean);
    const first = tokens[0];
    const m = first ? /^([a-z0-9_-]+)(?:\/\d+)?=([a-z]+)$/i.exec(first) : null;
    if (!m?.[1] || !m[2]) continue;
    const props = new Map<string, string>();
    for (const token of tokens.slice(1)) {
      const p = /^([a-z0-9_-]+\.[a-z0-9_.-]+)=(.+)$/i.exec(token);
      if (p?.[1] && p[2]) props.set(p[1].toLowerCase(), p[2].replace(/^"|"$/g, '').toLowerCase());
    }
    results.push({ method: m[1].toLowerCase(), result: m[2].toLowerCase(), props });
  }
  return { authservId, results };
}

/**
 * True when the topmost Authentication-Results header comes from a trusted authserv-id and says
 * `dmarc=pass` for exactly the From address's domain.
 */
export function dmarcPasses(headers: string[], trustedIds: readonly string[], fromAddress: string): boolean {
  const top = headers[0];
  const at = fromAddress.lastIndexOf('@');
  if (top === undefined || trustedIds.length === 0 || at < 0) return false;
  const fromDomain = fromAddress.slice(at + 1).toLowerCase();
  const parsed = parseAuthenticationResults(top);
  if (!trustedIds.some((id) => id.toLowerCase() === parsed.authservId)) return false;
  return parsed.results.some((r) => r.method === 'dmarc' && r.result === 'pass' && r.props.get('header.from') === fromDomain);
}
