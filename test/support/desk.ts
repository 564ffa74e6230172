import { desc, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { signCustomerId } from '../../channels/webchat/index.js';
import { handoffs } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import type { Service } from '../../src/service.js';
import { call } from './service.js';

type WebMessage = { id: string; author: string; text: string; quickReplies?: { id: string; label: string }[] };

/** A consumer in the web chat, through the public API only (signed identity with `secret`). */
export function webchatConsumer(service: Service, customerId: string, secret: string) {
  let token = '';
  let cursor: string | null = null;
  let n = 0;
  const read = async (): Promise<WebMessage[]> => {
    const res = await call(service, 'GET', `/api/webchat/messages${cursor ? `?after=${cursor}` : ''}`, { token });
    expect(res.status).toBe(200);
    cursor = res.body.cursor;
    return res.body.messages;
  };
  const post = async (body: { text: string } | { choice: string }) => {
    n += 1;
    const res = await call(service, 'POST', '/api/webchat/messages', { token, body: { clientMessageId: `desk-${customerId}-${n}`, ...body } });
    expect(res.status).toBe(202);
    await service.settle();
    return (await read()).filter((m) => m.author === 'bot');
  };
  return {
    async open() {
      const res = await call(service, 'POST', '/api/webchat/sessions', { body: { customerId, signature: signCustomerId(customerId, secret) } });
      expect(res.status).toBe(201);
      token = res.body.token;
    },
    say: (text: string) => post({ text }),
    /** Presses the quick reply of the last bot message whose label contains `label`. */
    async press(last: WebMessage[], label: string) {
      const options = last.at(-1)?.quickReplies ?? [];
      const option = options.find((q) => q.label.includes(label));
      expect(option, `a button "${label}" among ${options.map((q) => q.label).join(' | ')}`).toBeDefined();
      return post({ choice: option?.id ?? '' });
    },
  };
}

/** What 王秀兰 types when the spa refused her coupon (no shop name in it, so a test can tell it from the packet's). */
export const WANG_DESCRIPTION = '前台说这张券周末不能用，可是团购页面上写的是每天都能用，我坐了一个小时公交白跑了一趟。';
export const WANG_WHEN = '上周六下午';

/**
 * The issue's scenario, in the web chat: 王秀兰 first refunds her anniversary dinner coupon
 * (KF84144382, 金玉满堂), then complains that 静心堂 refused her coupon of KF53738838, typing
 * what happened and asking for a refund. Returns the complaint's handoff.
 */
export async function wangComplainsAfterRefund(service: Service, secret: string) {
  const wang = webchatConsumer(service, DEMO_SENIOR_CUSTOMER_ID, secret);
  await wang.open();
  let bot = await wang.say('我想退款');
  bot = await wang.press(bot, '纪念日');
  bot = await wang.press(bot, '未使用');
  bot = await wang.press(bot, '确认退款');
  expect(bot.at(-1)?.text).toContain('退款成功');
  bot = await wang.say('我要投诉');
  bot = await wang.press(bot, '店家不让用券');
  bot = await wang.say('KF53738838');
  expect(bot.at(-1)?.text).toContain('发生了什么事');
  bot = await wang.say(WANG_DESCRIPTION);
  bot = await wang.say(WANG_WHEN);
  bot = await wang.press(bot, '跳过');
  bot = await wang.press(bot, '退款');
  const told = bot.at(-1)?.text ?? '';
  expect(told).toMatch(/投诉单号 C\d{8}-\d{4}/);
  const [handoff] = await service.database.db.select().from(handoffs).orderBy(desc(handoffs.createdAt)).limit(1);
  expect(handoff).toBeDefined();
  const [again] = await service.database.db.select().from(handoffs).where(eq(handoffs.id, handoff!.id));
  return { handoff: again!, told };
}
