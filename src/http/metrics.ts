import { timingSafeEqual } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import { type Db, rowsOf } from '../db/client.js';
import { errorResponse } from './errors.js';

/** What the LLM part counts (src/llm LlmMetrics.snapshot), as the metrics endpoint reads it. */
export interface LlmCounts {
  calls: Record<string, Record<string, number>>;
  promptTokens: number;
  completionTokens: number;
  cascade: Record<string, number>;
  breakerOpened: number;
}

/** The instruments the pipeline reports to; one set per service (tests build many services). */
export interface ServiceMetrics {
  readonly registry: Registry;
  /** Reads the scrape-time gauges (one statement); call before `registry.metrics()`. */
  refresh(): Promise<void>;
  messageIn(channel: string): void;
  messageOut(channel: string, deliveryMs: number): void;
  turn(ms: number): void;
}

// One cheap statement per scrape: outbox backlog, open cases by status, SLA warnings and breaches.
const ScrapeRow = z.object({ kind: z.string(), key: z.string().nullable(), n: z.coerce.number(), age: z.coerce.number().nullable() });

export function createServiceMetrics(deps: { db: Db; llm: () => LlmCounts; now: () => Date; onError?: (err: unknown) => void }): ServiceMetrics {
  const registry = new Registry();
  // Read on scrape, before serializing (prom-client runs `collect` hooks in parallel, so one read
  // cannot feed several gauges there): numbers the database or the LLM part already keeps.
  const scrapeOk = new Gauge({ name: 'kefu_scrape_ok', help: '1 when the database figures of this scrape were read', registers: [registry] });
  const refresh = async () => {
    const now = deps.now();
    const llm = deps.llm();
    for (const [task, outcomes] of Object.entries(llm.calls)) for (const [outcome, n] of Object.entries(outcomes)) llmCalls.set({ task, outcome }, n);
    llmTokens.set({ kind: 'prompt' }, llm.promptTokens);
    llmTokens.set({ kind: 'completion' }, llm.completionTokens);
    for (const [route, n] of Object.entries(llm.cascade)) cascade.set({ route }, n);
    breaker.set(llm.breakerOpened);
    try {
      const rows = rowsOf(
        await deps.db.execute(sql`
          select 'outbox' as kind, null as key, count(*) as n,
                 extract(epoch from (${now.toISOString()}::timestamptz - min(created_at))) as age
            from outbox where status = 'pending'
          union all
          select 'case', status::text, count(*), null from conversations where status <> 'closed' group by status
          union all
          select 'sla', action, count(*), null from audit_log where action in ('sla.warning', 'sla.breach') group by action`),
      ).map((r) => ScrapeRow.parse(r));
      cases.reset();
      sla.set({ kind: 'warning' }, 0);
      sla.set({ kind: 'breach' }, 0);
      for (const row of rows) {
        if (row.kind === 'outbox') {
          backlog.set(row.n);
          oldest.set(Math.max(0, row.age ?? 0));
        } else if (row.kind === 'case' && row.key) cases.set({ status: row.key }, row.n);
        else if (row.kind === 'sla' && row.key) sla.set({ kind: row.key.slice('sla.'.length) }, row.n);
      }
      scrapeOk.set(1);
    } catch (err) {
      deps.onError?.(err);
      scrapeOk.set(0);
    }
  };

  const messagesIn = new Counter({ name: 'kefu_messages_in_total', help: 'Inbound messages stored (duplicates not counted), per channel', labelNames: ['channel'], registers: [registry] });
  const messagesOut = new Counter({ name: 'kefu_messages_out_total', help: 'Outbound messages delivered, per channel', labelNames: ['channel'], registers: [registry] });
  const turnSeconds = new Histogram({ name: 'kefu_bot_turn_seconds', help: 'Time of one bot turn (prepare and respond)', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] });
  const deliverySeconds = new Histogram({ name: 'kefu_delivery_seconds', help: 'From a reply written to its delivery through the channel', labelNames: ['channel'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [registry] });
  const backlog = new Gauge({ name: 'kefu_outbox_backlog', help: 'Outbox rows pending delivery', registers: [registry] });
  const oldest = new Gauge({ name: 'kefu_outbox_oldest_age_seconds', help: 'Age of the oldest pending outbox row (0 when none)', registers: [registry] });
  const cases = new Gauge({ name: 'kefu_open_cases', help: 'Conversations not closed, by status', labelNames: ['status'], registers: [registry] });
  const sla = new Gauge({ name: 'kefu_sla_events_total', help: 'SLA warnings and breaches recorded (audit log)', labelNames: ['kind'], registers: [registry] });
  const llmCalls = new Gauge({ name: 'kefu_llm_calls_total', help: 'LLM calls by task and outcome (this process)', labelNames: ['task', 'outcome'], registers: [registry] });
  const llmTokens = new Gauge({ name: 'kefu_llm_tokens_total', help: 'LLM tokens used (this process)', labelNames: ['kind'], registers: [registry] });
  const cascade = new Gauge({ name: 'kefu_intent_route_total', help: 'Where intent answers came from: rules, llm or a fallback (this process)', labelNames: ['route'], registers: [registry] });
  const breaker = new Gauge({ name: 'kefu_llm_breaker_opened_total', help: 'Times the LLM circuit breaker opened (this process)', registers: [registry] });

  return {
    registry,
    refresh,
    messageIn: (channel) => messagesIn.inc({ channel }),
    messageOut(channel, deliveryMs) {
      messagesOut.inc({ channel });
      deliverySeconds.observe({ channel }, Math.max(0, deliveryMs) / 1000);
    },
    turn: (ms) => turnSeconds.observe(ms / 1000),
  };
}

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** `GET /metrics` (Prometheus text): absent (404) unless a token is configured; the token is required. */
export function metricsRoutes(metrics: ServiceMetrics, token: string | undefined): Hono {
  const app = new Hono();
  if (!token) return app;
  app.get('/metrics', async (c) => {
    const given = c.req.header('authorization')?.replace(/^Bearer\s+/i, '') ?? '';
    if (!same(given, token)) return errorResponse(c, new AppError('unauthorized', 'A valid metrics token is required'));
    await metrics.refresh();
    return c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
  });
  return app;
}
