import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { type DbOrTx, rowsOf } from './client.js';

/** The window complaint figures are counted over unless a period is given (the dashboard's default too). */
export const COMPLAINT_WINDOW_DAYS = 30;

const Row = z.object({ id: z.string(), name: z.string(), status: z.string(), complaints: z.coerce.number(), orders: z.coerce.number() });

export interface MerchantComplaintStat {
  id: string;
  name: string;
  status: string;
  /** Complaints against the merchant opened within the period (both ends included). */
  complaints: number;
  /** The merchant's orders placed before the period's end (the incidence's denominator). */
  orders: number;
  /** complaints / orders, null without orders. */
  rate: number | null;
}

/** The default period: the COMPLAINT_WINDOW_DAYS days up to `to`. */
export function complaintWindow(to: Date): { from: Date; to: Date } {
  return { from: new Date(to.getTime() - COMPLAINT_WINDOW_DAYS * 86_400_000), to };
}

/**
 * The one definition of a merchant's complaint figures: complaints opened in [from, to] and the
 * merchant's orders placed before `to`. The handoff packet, the console and the dashboard all read it.
 */
export async function merchantComplaintStats(db: DbOrTx, period: { from: Date; to: Date }, merchantIds?: readonly string[]): Promise<MerchantComplaintStat[]> {
  if (merchantIds !== undefined && merchantIds.length === 0) return [];
  // ISO strings with explicit casts: postgres.js does not serialize Date parameters of raw SQL.
  const from = period.from.toISOString();
  const to = period.to.toISOString();
  const only =
    merchantIds === undefined
      ? sql``
      : sql`where m.id in (${sql.join(
          merchantIds.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})`;
  const rows = z.array(Row).parse(
    rowsOf<unknown>(
      await db.execute(sql`
        select m.id::text as id, m.name, m.status::text as status,
          (select count(*) from complaints c where c.merchant_id = m.id and c.created_at >= ${from}::timestamptz and c.created_at <= ${to}::timestamptz) as complaints,
          (select count(*) from orders o join deals d on d.id = o.deal_id where d.merchant_id = m.id and o.created_at <= ${to}::timestamptz) as orders
        from merchants m ${only}`),
    ),
  );
  return rows.map((r) => ({ ...r, rate: r.orders === 0 ? null : r.complaints / r.orders }));
}
