import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCustomerId } from '../../channels/webchat/index.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';

// Reads one sample from the Prometheus text format (0 when the series is absent).
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe.each(backends())('operators metrics on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;

  beforeAll(async () => {
    service = await testService(backend, { env: { WEBCHAT_IDENTITY_SECRET: 'host-secret', METRICS_TOKEN: 'scrape-token' } });
  });
  afterAll(async () => {
    await service?.close();
  });

  const scrape = async () => {
    const res = await call(service, 'GET', '/metrics', { token: 'scrape-token' });
    expect(res.status).toBe(200);
    return String(res.body);
  };

  it('counts a web chat message in, its reply out, the turn and the delivery', async () => {
    const session = await call(service, 'POST', '/api/webchat/sessions', {
      body: { customerId: DEMO_SENIOR_CUSTOMER_ID, signature: signCustomerId(DEMO_SENIOR_CUSTOMER_ID, 'host-secret') },
    });
    // Opening the chat already counts one inbound event (the greeting's trigger): measure from after it.
    await service.settle();
    const before = await scrape();
    const sent = await call(service, 'POST', '/api/webchat/messages', { token: session.body.token, body: { clientMessageId: 'metrics-1', text: '你好' } });
    expect(sent.status).toBe(202);
    await service.settle();
    const after = await scrape();
    expect(sample(after, 'kefu_messages_in_total{channel="webchat"}') - sample(before, 'kefu_messages_in_total{channel="webchat"}')).toBe(1);
    expect(sample(after, 'kefu_messages_out_total{channel="webchat"}')).toBeGreaterThan(sample(before, 'kefu_messages_out_total{channel="webchat"}'));
    expect(sample(after, 'kefu_bot_turn_seconds_count')).toBeGreaterThan(sample(before, 'kefu_bot_turn_seconds_count'));
    expect(sample(after, 'kefu_delivery_seconds_count{channel="webchat"}')).toBeGreaterThan(0);
    expect(sample(after, 'kefu_outbox_backlog')).toBe(0);
    expect(sample(after, 'kefu_open_cases{status="bot"}')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'kefu_scrape_ok')).toBe(1);
    expect(after).toContain('kefu_llm_calls_total');
    expect(after).toContain('kefu_sla_events_total{kind="breach"}');
  });

  it('refuses a scrape without the token or with a wrong one (401 JSON)', async () => {
    const none = await call(service, 'GET', '/metrics');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    const wrong = await call(service, 'GET', '/metrics', { token: 'scrape-tokem' });
    expect(wrong.status).toBe(401);
  });
});

describe('metrics without a configured token', () => {
  it('has no /metrics endpoint (404)', async () => {
    const service = await testService('pglite');
    try {
      const res = await call(service, 'GET', '/metrics', { token: 'anything' });
      expect(res.status).toBe(404);
    } finally {
      await service.close();
    }
  });
});
