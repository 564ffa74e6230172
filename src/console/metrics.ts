import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { type Db, rowsOf } from '../db/client.js';
import { merchantComplaintStats } from '../db/complaint-stats.js';

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
  const merchantRows = await merchantComplaintStats(db, period);
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
      .map((m) => ({ ...m, overThreshold: m.rate !== null && m.rate > threshold }))
      .sort((a, b) => (b.rate ?? -1) - (a.rate ?? -1) || b.complaints - a.complaints),
    complaintThreshold: threshold,
  };
}

const AgentRow = z.object({
  id: z.string(),
  name: z.string(),
  cases: num,
  resolved: num,
  first_avg_min: nullableNum,
  res_avg_h: nullableNum,
  sla_met: num,
  sla_due: num,
  csat_avg: nullableNum,
  csat_n: num,
});

export interface AgentFigures {
  id: string;
  name: string;
  /** Cases handed off in the period that this person owns or owned. */
  cases: number;
  resolved: number;
  firstResponseMinutes: number | null;
  resolutionHours: number | null;
  /** Share of their cases with a due first reply answered in time. */
  slaFirstResponse: number | null;
  satisfaction: number | null;
  satisfactionAnswers: number;
}

/** Per-person figures over cases handed off in [from, to), by the case's owner. */
export async function agentFigures(db: Db, period: { from: Date; to: Date }, now: Date): Promise<AgentFigures[]> {
  const from = period.from.toISOString();
  const to = period.to.toISOString();
  const at = now.toISOString();
  const rows = z.array(AgentRow).parse(
    rowsOf<unknown>(
      await db.execute(sql`
        select a.id::text as id, a.name,
          count(c.id) as cases,
          count(c.resolved_at) as resolved,
          avg(extract(epoch from c.first_human_reply_at - c.handoff_at)) / 60 as first_avg_min,
          avg(extract(epoch from c.resolved_at - c.handoff_at)) / 3600 as res_avg_h,
          count(*) filter (where c.first_human_reply_at is not null and c.first_human_reply_at <= c.first_response_due_at) as sla_met,
          count(*) filter (where c.first_human_reply_at is not null or c.first_response_due_at <= ${at}::timestamptz) as sla_due,
          avg(c.satisfaction) as csat_avg,
          count(c.satisfaction) as csat_n
        from agents a
        join conversations c on c.owner_agent_id = a.id and c.handoff_at >= ${from}::timestamptz and c.handoff_at < ${to}::timestamptz
        group by a.id, a.name
        order by a.name`),
    ),
  );
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    cases: r.cases,
    resolved: r.resolved,
    firstResponseMinutes: r.first_avg_min,
    resolutionHours: r.res_avg_h,
    slaFirstResponse: ratio(r.sla_met, r.sla_due),
    satisfaction: r.csat_avg,
    satisfactionAnswers: r.csat_n,
  }));
}

/** One dashboard table as CSV (RFC 4180, UTF-8 with a BOM so spreadsheet programs read Chinese). */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  const cell = (v: string | number | null) => {
    const text = v === null ? '' : String(v);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return `\uFEFF${[header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}
