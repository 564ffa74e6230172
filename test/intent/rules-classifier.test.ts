import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import { Classification, type Intent } from '../../src/core/intent.js';
import { detectLocale } from '../../src/core/locale.js';
import type { Locale } from '../../src/core/message.js';
import { loadLexicon, parseLexicon } from '../../src/intent/lexicon.js';
import { confidentEnough, createRulesClassifier } from '../../src/intent/rules-classifier.js';

const classifier = createRulesClassifier(loadLexicon());
const classify = (text: string, locale: Locale | null = null) => classifier.classifySync(text, { locale, step: null, recentTurns: [] });

describe('rules classifier: intents in every language', () => {
  const cases: [Intent, Locale, string][] = [
    ['account_help', 'zh-Hans', '我收不到验证码'],
    ['account_help', 'zh-Hant', '我忘記密碼了，登入不了'],
    ['account_help', 'en', 'I forgot my password and cannot log in'],
    ['account_help', 'zh-Hans', '怎么绑定银行卡'],
    ['refund', 'zh-Hans', '这张券我不想用了，我要退款'],
    ['refund', 'zh-Hant', '我想退錢'],
    ['refund', 'en', 'Can I get my money back for this voucher?'],
    ['complaint', 'zh-Hans', '我要投诉这家店'],
    ['complaint', 'zh-Hant', '我要投訴這家店'],
    ['complaint', 'en', 'I want to file a complaint about the restaurant'],
    ['order_help', 'zh-Hans', '我的券有效期到什么时候'],
    ['order_help', 'zh-Hant', '我的訂單到哪了'],
    ['order_help', 'en', 'Where is my order? I want to check its status'],
    ['human', 'zh-Hans', '转人工'],
    ['human', 'zh-Hant', '轉人工'],
    ['human', 'en', 'Let me talk to a real person'],
    ['order_help', 'zh-Hans', '这个套餐包含几个菜'],
    ['order_help', 'en', 'Can I use the voucher on weekends?'],
    ['account_help', 'zh-Hans', '换了手机号登不上了'],
    ['other', 'zh-Hans', '今天天气怎么样'],
    ['other', 'en', 'What is the capital of France'],
  ];
  it.each(cases)('%s in %s: %s', (intent, locale, text) => {
    const result = classify(text);
    expect(result.intent).toBe(intent);
    expect(result.language).toBe(locale === 'zh-Hant' && detectLocale(text) === 'zh-Hans' ? 'zh-Hans' : locale);
    expect(result.source).toBe('rules');
    expect(Classification.parse(result)).toEqual(result);
  });

  it('takes a question about a refund already asked for as a refund-status question, not a new refund', () => {
    expect(classify('我的退款多久到账').intent).toBe('refund_status');
    expect(classify('钱什么时候退回来').intent).toBe('refund_status');
    expect(classify('When will I get my refund?').intent).toBe('refund_status');
    expect(classify('我的退款到哪了').intent).toBe('refund_status');
    expect(classify('where is my refund').intent).toBe('refund_status');
    expect(classify('I want a refund').intent).toBe('refund');
  });

  it('matches Traditional text against Simplified cues and full-width letters against half-width ones', () => {
    expect(classify('我要退貨退款').intent).toBe('refund');
    expect(classify('ＲＥＦＵＮＤ please').intent).toBe('refund');
    expect(classify('I WANT TO SPEAK TO AN AGENT').intent).toBe('human');
  });

  it('reports the script of Traditional Chinese, and keeps the conversation locale when the text looks the same in both', () => {
    expect(classify('請問這張優惠券怎麼用').language).toBe('zh-Hant');
    expect(classify('请问这张优惠券怎么用').language).toBe('zh-Hans');
    expect(classify('我要退款', 'zh-Hant').language).toBe('zh-Hant');
    expect(classify('我要退款', 'zh-Hans').language).toBe('zh-Hans');
    expect(classify('KF12345678', 'en').language).toBe('en');
  });
});

describe('rules classifier: asking for a person', () => {
  const people: [Locale, string][] = [
    ['zh-Hans', '人工'],
    ['zh-Hans', '我要人工客服'],
    ['zh-Hans', '找真人'],
    ['zh-Hans', '客服电话是多少'],
    ['zh-Hans', '你们打电话给我吧'],
    ['zh-Hans', '我老伴不会弄，能不能打个电话'],
    ['zh-Hant', '轉人工'],
    ['zh-Hant', '我要真人客服'],
    ['zh-Hant', '客服電話是多少'],
    ['en', 'agent'],
    ['en', 'human please'],
    ['en', 'can I speak to someone'],
    ['en', 'call me'],
    ['en', 'I need a real person'],
  ];
  it.each(people)('%s: %s is `human`, confidently', (_locale, text) => {
    const result = classify(text);
    expect(result.intent).toBe('human');
    expect(confidentEnough(result)).toBe(true);
  });

  it('wins over everything else in the same message', () => {
    expect(classify('退款一直不到账，气死了，转人工！').intent).toBe('human');
    expect(classify('This is ridiculous, I want a refund, get me a human').intent).toBe('human');
  });

  it('does not take labour costs or artificial intelligence for a person', () => {
    expect(classify('人工费太贵了').intent).not.toBe('human');
    expect(classify('你们是人工智能吗').intent).not.toBe('human');
  });
});

describe('rules classifier: slots', () => {
  it('extracts order numbers in any case, with spaces or full-width digits', () => {
    for (const text of ['KF12345678', 'kf12345678', 'KF 1234 5678', 'ｋｆ１２３４５６７８', '订单号是 KF-12345678 谢谢']) {
      expect(classify(text).slots.orderNumber).toBe('KF12345678');
    }
    expect(classify('KF1234567').slots.orderNumber).toBeNull();
    expect(classify('KF123456789').slots.orderNumber).toBeNull();
  });

  it('extracts coupon codes with or without dashes, and not words or phone numbers', () => {
    expect(classify('券码 ABCD-2345-EFGH 用不了').slots.couponCode).toBe('ABCD-2345-EFGH');
    expect(classify('abcd-2345-efgh').slots.couponCode).toBe('ABCD-2345-EFGH');
    expect(classify('my code is ABCD2345EFGH').slots.couponCode).toBe('ABCD-2345-EFGH');
    expect(classify('ABCD 2345 EFGH').slots.couponCode).toBe('ABCD-2345-EFGH');
    expect(classify('call 138001380000').slots.couponCode).toBeNull();
    expect(classify('INTERNATIONAL').slots.couponCode).toBeNull();
    expect(classify('KF12345678').slots.couponCode).toBeNull();
  });

  it('answers a bare order number or coupon code confidently as no request of its own (the flow asks what to do with it)', () => {
    for (const text of ['KF12345678', 'ABCD-2345-EFGH']) {
      const result = classify(text);
      expect(result.intent).toBe('other');
      expect(confidentEnough(result)).toBe(true);
    }
  });

  it('keeps the intent of a sentence and still extracts its order number', () => {
    const result = classify('订单KF12345678我要退款');
    expect(result.intent).toBe('refund');
    expect(result.slots.orderNumber).toBe('KF12345678');
  });

  const yesNo: [string, 'yes' | 'no'][] = [
    ['是', 'yes'],
    ['是的', 'yes'],
    ['对', 'yes'],
    ['好的', 'yes'],
    ['可以', 'yes'],
    ['嗯', 'yes'],
    ['好的，谢谢', 'yes'],
    ['對', 'yes'],
    ['是的。', 'yes'],
    ['yes', 'yes'],
    ['Yeah', 'yes'],
    ['ok thanks', 'yes'],
    ['不是', 'no'],
    ['不要', 'no'],
    ['没有', 'no'],
    ['沒有', 'no'],
    ['no', 'no'],
    ['Nope', 'no'],
    ['no thanks', 'no'],
  ];
  it.each(yesNo)('%s is a confident %s', (text, answer) => {
    const result = classify(text);
    expect(result.slots.affirmation).toBe(answer);
    expect(result.intent).toBe('other');
    expect(confidentEnough(result)).toBe(true);
  });

  it('does not read yes/no into sentences that merely start with those words', () => {
    expect(classify('好吃').slots.affirmation).toBeNull();
    expect(classify('可以用吗').slots.affirmation).toBeNull();
    expect(classify('not sure how to use my coupon').slots.affirmation).toBeNull();
    expect(classify('no one answers the phone').slots.affirmation).toBeNull();
    const both = classify('不是，我要退款');
    expect(both.slots.affirmation).toBe('no');
    expect(both.intent).toBe('refund');
  });

  const categories: [string, string][] = [
    ['这家店乱收费', 'hidden_charges'],
    ['结账时有隐藏收费', 'hidden_charges'],
    ['They added hidden fees to the bill', 'hidden_charges'],
    ['菜品和描述不符', 'not_as_described'],
    ['完全货不对板', 'not_as_described'],
    ['The set menu was not as described', 'not_as_described'],
    ['店家不让用券', 'coupon_refused'],
    ['服务员拒收我的券', 'coupon_refused'],
    ["The shop wouldn't accept my voucher", 'coupon_refused'],
    ['用团购券就被区别对待', 'worse_treatment'],
    ['厨房不卫生，菜都变质了', 'quality_hygiene'],
    ['餐廳不衛生', 'quality_hygiene'],
    ['服务员态度差', 'staff_attitude'],
    ['The waiter was rude to us', 'staff_attitude'],
    ['去了发现店关门了', 'shop_closed'],
    ['那家店倒閉了', 'shop_closed'],
    ['店已经搬走了', 'shop_closed'],
  ];
  it.each(categories)('%s is a complaint about %s', (text, category) => {
    const result = classify(text);
    expect(result.intent).toBe('complaint');
    expect(result.slots.complaintCategory).toBe(category);
  });
});

describe('rules classifier: anger', () => {
  const angry = ['我要投诉你们', '你们就是骗子', '气死我了', '投訴你們這些騙子', 'This is a scam', 'ridiculous', 'Where is my refund!!!', 'WHERE IS MY MONEY NOW'];
  it.each(angry)('%s is angry', (text) => {
    expect(classify(text).sentiment).toBe('angry');
  });

  it('leaves calm messages calm, and dissatisfied ones negative', () => {
    expect(classify('请问怎么用券').sentiment).toBe('neutral');
    expect(classify('I want a refund').sentiment).toBe('neutral');
    expect(classify('KF12345678').sentiment).toBe('neutral');
    expect(classify('味道很一般，有点失望').sentiment).toBe('negative');
  });

  it('takes an angry message without another cue for a complaint', () => {
    expect(classify('气死我了').intent).toBe('complaint');
  });
});

describe('rules classifier: confidence', () => {
  it('is low and `other` when nothing matches, so the LLM gets a look', () => {
    for (const text of ['', '😀', 'asdf qwer', '今天天气怎么样']) {
      const result = classify(text);
      expect(result.intent).toBe('other');
      expect(confidentEnough(result)).toBe(false);
    }
  });

  it('is lower for a message that points two ways than for one that points one way', () => {
    const clear = classify('我要退款');
    const mixed = classify('我要退款，顺便问一下怎么登录');
    expect(clear.confidence).toBeGreaterThan(mixed.confidence);
    expect(confidentEnough(mixed)).toBe(false);
  });

  it('is high for a menu button label', () => {
    for (const label of ['申请退款', '我要投诉', '找人工客服', 'Request a refund', 'Make a complaint', 'Talk to a person']) {
      expect(confidentEnough(classify(label))).toBe(true);
    }
  });

  it('is deterministic and fast', async () => {
    const texts = readFixture().map((r) => r.text);
    const first = texts.map((t) => classify(t));
    expect(texts.map((t) => classify(t))).toEqual(first);
    expect(await classifier.classify(texts[0] ?? '', { locale: null, step: null, recentTurns: [] })).toEqual(first[0]);
    const started = performance.now();
    for (let i = 0; i < 3; i++) for (const t of texts) classify(t);
    // Typical is ~0.03 ms a message; 1 ms leaves room for a busy shared machine and still catches runaway regexes.
    expect((performance.now() - started) / (3 * texts.length)).toBeLessThan(1);
  });
});

describe('lexicon validation', () => {
  it('names the entry of a bad regular expression', () => {
    const broken = { version: 1, intents: { refund: [{ weight: 4, regex: ['(unclosed'] }] }, affirmation: { yes: {}, no: {} } };
    expect(() => parseLexicon(broken, 'flows/intents.yaml')).toThrowError(/intents\.refund\[0\]\.regex\[0\]: not a valid regular expression/);
  });

  it('names unknown intents, misspelt fields and empty phrases', () => {
    const broken = {
      version: 1,
      intents: { refunds: [], human: [{ wieght: 2, en: [''] }] },
      affirmation: { yes: {}, no: {} },
    };
    let error: unknown;
    try {
      parseLexicon(broken, 'flows/intents.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    const message = (error as AppError).message;
    expect(message).toContain('flows/intents.yaml is invalid');
    expect(message).toContain('intents');
    expect(message).toMatch(/refunds/);
    expect(message).toMatch(/wieght/);
    expect(message).toContain('intents.human[0].en[0]: an empty phrase matches everything');
  });

  it('loads the shipped lexicon', () => {
    expect(loadLexicon().version).toBe(1);
  });
});

interface Labelled {
  text: string;
  intent: Intent;
  lang: 'en' | 'zh-Hans';
}

function readFixture(): Labelled[] {
  return readFileSync(join(import.meta.dirname, '../fixtures/intents/dev.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Labelled);
}

describe('accuracy on labelled real consumer utterances (test/fixtures/intents)', () => {
  // Measured 2026-11-22 on the whole file: en 95.7 %, zh-Hans 90.8 %. Floors a few points lower.
  const LANGUAGE_FLOOR: Record<Labelled['lang'], number> = { en: 0.92, 'zh-Hans': 0.87 };
  // Lowest measured per intent: en other 90 %, zh-Hans complaint 84 %.
  const INTENT_FLOOR = 0.8;

  const rows = readFixture();
  const tally = new Map<string, { right: number; total: number }>();
  for (const row of rows) {
    const right = classify(row.text).intent === row.intent ? 1 : 0;
    for (const key of [row.lang, `${row.lang}/${row.intent}`]) {
      const t = tally.get(key) ?? { right: 0, total: 0 };
      t.right += right;
      t.total += 1;
      tally.set(key, t);
    }
  }
  const accuracy = (key: string) => {
    const t = tally.get(key);
    return t ? t.right / t.total : 0;
  };

  it.each(Object.entries(LANGUAGE_FLOOR))('%s accuracy stays above its floor', (lang, floor) => {
    expect(tally.get(lang)?.total).toBeGreaterThan(0);
    expect(accuracy(lang)).toBeGreaterThanOrEqual(floor);
  });

  it('every labelled intent of every language stays above the per-intent floor', () => {
    const keys = [...tally.keys()].filter((k) => k.includes('/'));
    expect(keys.length).toBe(8);
    for (const key of keys) expect({ key, accuracy: accuracy(key) >= INTENT_FLOOR }).toEqual({ key, accuracy: true });
  });
});
