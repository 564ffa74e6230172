import { sql } from 'drizzle-orm';
import { type DbOrTx, rowsOf } from './client.js';

const TICKET_SEQUENCES = { T: 'handoff_ticket_seq', C: 'complaint_ticket_seq' } as const;

/**
 * A human-friendly ticket number: prefix, UTC date and a running number, e.g. `T20261122-0042`.
 * The running number comes from a sequence (no lock held until commit; a rolled-back turn
 * leaves a gap), so it keeps counting across days rather than restarting each day.
 */
export async function nextTicketNumber(db: DbOrTx, prefix: keyof typeof TICKET_SEQUENCES, now: Date): Promise<string> {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  const result = await db.execute(sql`select nextval(${TICKET_SEQUENCES[prefix]}::regclass) as n`);
  const n = rowsOf<{ n: number | string }>(result)[0]?.n;
  if (n === undefined) throw new Error(`sequence for ${prefix} tickets returned no value`);
  return `${prefix}${day}-${String(n).padStart(4, '0')}`;
}
