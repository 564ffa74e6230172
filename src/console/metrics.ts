import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { type Db, rowsOf } from '../db/client.js';

/** `GET /api/console/metrics?from=&to=` query; the period defaults to the last 30 days. */
export const MetricsQuery = z.object({ from: z.iso.datetime({ offset: true }).optional(), to: z.iso.datetime({ offset: true }).optional() });

const num = z.coerce.number();
const nullableNum = z.coerce.number().nullable();

const Totals = z.object({
  conversations: num,
  handoffs: num,
  first_met: num,
  first_breached: num,
  res_met: num,
  res_breached: num,
  first_avg_min: nullableNum,
  first_median_min: nullableNum,
  res_avg_h: nullableNum,
  res_median_h: nullableNum,
  resolved: num,
  csat_avg: nullableNum,
  csat_n: num,
});

const AgeRow = z.object({ bucket: z.string(), n: num });
const MerchantRow = z.object({ id: z.string(), name: z.string(), status: z.string(), complaints: num, orders: num });

export interface Metrics {
  from: string;
  to: string;
  conversations: number;
  handoffs: number;
  handoffRate: number | null;
  botContainment: number | null;
  sla: { firstResponse: number | null; resolution: number | null; firstMet: number; firstBreached: number; resolutionMet: number; resolutionBreached: number };
  firstResponseMinutes: { average: number | null; median: number | null };
  resolutionHours: { average: number | null; median: number | null };
  resolved: number;
  satisfaction: { average: number | null; answers: number };
  openByAge: { bucket: string; count: number }[];
  merchants: { id: string; name: string; status: string; complaints: number; orders: number; rate: number | null; overThreshold: boolean }[];
  complaintThreshold: number;
}

const ratio = (a: number, b: number) => (b === 0 ? null : a / b);

/** The manager dashboard's measures over [from, to), as of `now`. */
export async function consoleMetrics(db: Db, period: { from: Date; to: Date }, now: Date, threshold: number): Promise<Metrics> {
  // ISO strings with explicit casts: postgres.js does not serialize Date parameters of raw SQL.
  const from = period.from.toISOString();
  const to = period.to.toISOString();
  const at = now.toISOString();
  const [totalsRaw] = rowsOf<unknown>(
    await db.execute(sql`
      with conv as (
        select * from conversations where created_at >= ${from}::timestamptz and created_at < ${to}::timestamptz
      ), h as (
        select * from conversations where handoff_at >= ${from}::timestamptz and handoff_at < ${to}::timestamptz
      )
      select
        (select count(*) from conv) as conversations,
        (select count(*) from h) as handoffs,
        (select count(*) from h where first_human_reply_at is not null and first_human_reply_at <= first_response_due_at) as first_met,
        (select count(*) from h where (first_human_reply_at is not null and first_human_reply_at > first_response_due_at)
                                 or (first_human_reply_at is null and first_response_due_at <= ${at}::timestamptz)) as first_breached,
        (select count(*) from h where resolved_at is not null and resolved_at <= resolution_due_at) as res_met,
        (select count(*) from h where (resolved_at is not null and resolved_at > resolution_due_at)
                                 or (resolved_at is null and resolution_due_at <= ${at}::timestamptz)) as res_breached,
        (select avg(extract(epoch from first_human_reply_at - handoff_at)) / 60 from h where first_human_reply_at is not null) as first_avg_min,
        (select percentile_cont(0.5) within group (order by extract(epoch from first_human_reply_at - handoff_at)) / 60
           from h where first_human_reply_at is not null) as first_median_min,
        (select avg(extract(epoch from resolved_at - handoff_at)) / 3600 from h where resolved_at is not null) as res_avg_h,
        (select percentile_cont(0.5) within group (order by extract(epoch from resolved_at - handoff_at)) / 3600
           from h where resolved_at is not null) as res_median_h,
        (select count(*) from h where resolved_at is not null) as resolved,
        (select avg(satisfaction) from h where satisfaction is not null) as csat_avg,
        (select count(*) from h where satisfaction is not null) as csat_n`),
  );
  const t = Totals.parse(totalsRaw);
  const ages = z.array(AgeRow).parse(
    rowsOf<unknown>(
      await db.execute(sql`
        select case
          when handoff_at > ${at}::timestamptz - interval '1 hour' then 'under 1 h'
          when handoff_at > ${at}::timestamptz - interval '4 hours' then '1–4 h'
          when handoff_at > ${at}::timestamptz - interval '24 hours' then '4–24 h'
          else 'over 24 h' end as bucket, count(*) as n
        from conversations where status in ('waiting', 'assigned') and handoff_at is not null
        group by 1`),
    ),
  );
  const merchantRows = z.array(MerchantRow).parse(
    rowsOf<unknown>(
      await db.execute(sql`
        select m.id::text as id, m.name, m.status::text as status,
          (select count(*) from complaints c where c.merchant_id = m.id and c.created_at >= ${from}::timestamptz and c.created_at < ${to}::timestamptz) as complaints,
          (select count(*) from orders o join deals d on d.id = o.deal_id where d.merchant_id = m.id and o.created_at < ${to}::timestamptz) as orders
        from merchants m`),
    ),
  );
  const bucketOrder = ['under 1 h', '1–4 h', '4–24 h', 'over 24 h'];
  return {
    from,
    to,
    conversations: t.conversations,
    handoffs: t.handoffs,
    handoffRate: ratio(t.handoffs, t.conversations),
    // Contained: conversations of the period the bot finished without a person.
    botContainment: t.conversations === 0 ? null : 1 - Math.min(t.handoffs, t.conversations) / t.conversations,
    sla: {
      firstResponse: ratio(t.first_met, t.first_met + t.first_breached),
      resolution: ratio(t.res_met, t.res_met + t.res_breached),
      firstMet: t.first_met,
      firstBreached: t.first_breached,
      resolutionMet: t.res_met,
      resolutionBreached: t.res_breached,
    },
    firstResponseMinutes: { average: t.first_avg_min, median: t.first_median_min },
    resolutionHours: { average: t.res_avg_h, median: t.res_median_h },
    resolved: t.resolved,
    satisfaction: { average: t.csat_avg, answers: t.csat_n },
    openByAge: bucketOrder.map((bucket) => ({ bucket, count: ages.find((a) => a.bucket === bucket)?.n ?? 0 })),
    merchants: merchantRows
      .map((m) => {
        const rate = ratio(m.complaints, m.orders);
        return { ...m, rate, overThreshold: rate !== null && rate > threshold };
      })
      .sort((a, b) => (b.rate ?? -1) - (a.rate ?? -1) || b.complaints - a.complaints),
    complaintThreshold: threshold,
  };
}
