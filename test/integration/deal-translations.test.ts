import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCustomerId } from '../../channels/webchat/index.js';
import type { DealTerms } from '../../src/actions/ports.js';
import { dealData } from '../../src/actions/views.js';
import { FakeClock } from '../../src/core/ports.js';
import { DEMO_EN_CUSTOMER_ID, DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { backends } from '../support/db.js';
import { call, testService } from '../support/service.js';

type WebMessage = { author: string; text: string; quickReplies?: { id: string; label: string }[] };

// Issue 14: deal names and terms in the conversation's language where the platform wrote them
// (demo/merchants.yaml `translations`), the original words otherwise.
describe.each(backends())('deal wording in the conversation\'s language on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;

  beforeAll(async () => {
    service = await testService(backend, { env: { WEBCHAT_IDENTITY_SECRET: 'host-secret' }, clock: new FakeClock(new Date('2026-11-22T09:00:00Z')) });
  });
  afterAll(async () => {
    await service?.close();
  });

  async function orderButtons(customerId: string, words: string, locale?: 'zh-Hant') {
    const session = await call(service, 'POST', '/api/webchat/sessions', { body: { customerId, signature: signCustomerId(customerId, 'host-secret') } });
    const token = session.body.token as string;
    if (locale) expect((await call(service, 'POST', '/api/webchat/locale', { token, body: { locale } })).status).toBe(200);
    await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: `refund-${customerId}-${locale ?? ''}`, text: words } });
    await service.settle();
    const history = await call(service, 'GET', '/api/webchat/messages', { token });
    const bot = (history.body.messages as WebMessage[]).filter((m) => m.author === 'bot');
    return (bot.at(-1)?.quickReplies ?? []).map((q) => q.label);
  }

  it('names Emily\'s orders in English, where the platform gave the deals English names', async () => {
    const labels = await orderButtons(DEMO_EN_CUSTOMER_ID, 'I want a refund');
    expect(labels.some((l) => l.startsWith('IMAX movie for two · '))).toBe(true);
    expect(labels.join('\n')).not.toContain('IMAX双人观影套餐');
  });

  it('names the same deal in Traditional Chinese for a zh-Hant conversation and in the original words for zh-Hans', async () => {
    const hans = await orderButtons(DEMO_SENIOR_CUSTOMER_ID, '我想退款');
    expect(hans.some((l) => l.startsWith('双人纪念日晚宴套餐 · '))).toBe(true);
    const hant = await orderButtons(DEMO_SENIOR_CUSTOMER_ID, '我想退款', 'zh-Hant');
    expect(hant.some((l) => l.startsWith('雙人紀念日晚宴套餐 · '))).toBe(true);
  });

  it('falls back to the original words for every field a language lacks', () => {
    const deal: DealTerms = {
      id: 'd1', title: 'IMAX双人观影套餐', validFrom: '2026-11-01', validTo: '2027-01-31', weekdays: [1, 2, 3, 4, 5, 6, 7],
      hoursFrom: '09:00', hoursTo: '23:30', reservationRequired: false, usageNotes: '需在影院前台兑换。', priceCents: 9900, originalPriceCents: 19800,
      refundAnytime: true, refundOnExpiry: true, merchant: { id: 'm1', name: '星光影城', address: '深圳', phone: '0755', status: 'active' },
      included: [{ item: 'IMAX电影票', quantity: 2 }, { item: '中份爆米花', quantity: 1 }],
      translations: { en: { title: 'IMAX movie for two', included: ['IMAX ticket'] } },
    };
    expect(dealData(deal, 'en')).toMatchObject({
      title: 'IMAX movie for two',
      usageNotes: '需在影院前台兑换。', // no English notes: the original
      included: [{ item: 'IMAX ticket', quantity: 2 }, { item: '中份爆米花', quantity: 1 }],
    });
    expect(dealData(deal, 'zh-Hant')).toMatchObject({ title: 'IMAX双人观影套餐', included: [{ item: 'IMAX电影票', quantity: 2 }, { item: '中份爆米花', quantity: 1 }] });
    expect(dealData(deal)).toMatchObject({ title: 'IMAX双人观影套餐' });
  });
});
