import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { maskPersonalData, maskSecrets } from '../core/mask.js';
import { type DbOrTx, rowsOf } from '../db/client.js';
import type { Globals } from '../engine/flow-schema.js';
import { normaliseText } from '../intent/rules-classifier.js';

/** A group of similar messages the bot did not understand. */
export interface NotUnderstoodGroup {
  /** The most recent wording of the group, masked. */
  text: string;
  /** Other wordings in the group, masked (up to 5). */
  variants: string[];
  count: number;
  /** How many of them went to a person because the bot failed to understand. */
  handoffs: number;
  lastAt: Date;
  locale: string;
}

const Row = z.object({ text: z.string(), reply: z.string(), locale: z.string(), at: z.coerce.date() });

/** The fixed part of a bot text (up to its first variable): enough to recognise it in the transcript. */
function prefixes(texts: readonly (string | undefined)[]): string[] {
  return texts.flatMap((t) => (t ? [t.split('{{')[0]?.trim() ?? ''] : [])).filter((p) => p.length >= 4);
}

function bigrams(text: string): Set<string> {
  const s = normaliseText(text).replace(/[\s\p{P}\p{S}\d]+/gu, '');
  const out = new Set<string>();
  for (let i = 0; i < s.length - 1; i += 1) out.add(s.slice(i, i + 2));
  if (s.length === 1) out.add(s);
  return out;
}

function similar(a: Set<string>, b: Set<string>): boolean {
  if (a.size === 0 || b.size === 0) return a.size === b.size;
  let shared = 0;
  for (const g of a) if (b.has(g)) shared += 1;
  return shared / (a.size + b.size - shared) >= 0.5;
}

/**
 * Consumer messages the bot answered with "I did not understand" (the not_understood path) or with
 * the handoff for that reason, in the last `days` days: masked, grouped by similar text, most
 * frequent first. Read from the transcript, so it needs no extra write on the hot path.
 */
export async function notUnderstood(db: DbOrTx, globals: Globals, now: Date, days = 30, limit = 2000): Promise<NotUnderstoodGroup[]> {
  const misses = prefixes(Object.values(globals.messages.notUnderstood));
  const handoffs = prefixes(Object.values(globals.messages.handoffNotUnderstood));
  const since = new Date(now.getTime() - days * 86_400_000);
  const result = await db.execute(sql`
    select m.text as text, r.text as reply, c.locale as locale, m.created_at as at
    from messages m
    join conversations c on c.id = m.conversation_id
    join lateral (
      select o.text from messages o
      where o.conversation_id = m.conversation_id and o.seq > m.seq and o.direction = 'out'
      order by o.seq limit 1
    ) r on true
    where m.direction = 'in' and m.author = 'customer' and m.choice is null and m.created_at >= ${since.toISOString()}::timestamptz
    order by m.seq desc
    limit ${limit}`);
  const rows = z.array(Row).parse(rowsOf<unknown>(result));
  const groups: (NotUnderstoodGroup & { grams: Set<string> })[] = [];
  for (const row of rows) {
    const isHandoff = handoffs.some((p) => row.reply.startsWith(p));
    if (!isHandoff && !misses.some((p) => row.reply.startsWith(p))) continue;
    const text = maskPersonalData(maskSecrets(row.text)).trim();
    if (!text) continue;
    const grams = bigrams(text);
    const group = groups.find((g) => similar(g.grams, grams));
    if (group) {
      group.count += 1;
      if (isHandoff) group.handoffs += 1;
      if (group.text !== text && !group.variants.includes(text) && group.variants.length < 5) group.variants.push(text);
    } else {
      groups.push({ text, variants: [], count: 1, handoffs: isHandoff ? 1 : 0, lastAt: row.at, locale: row.locale, grams });
    }
  }
  return groups.sort((a, b) => b.count - a.count || b.lastAt.getTime() - a.lastAt.getTime()).map(({ grams: _g, ...g }) => g);
}
