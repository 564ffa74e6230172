import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/ports.js';
import { auditLog, refunds } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { studioLabelled, withStudioLabels } from '../../src/cli/intents.js';
import { LABELLED_DIR, LABELLED_FILES, LabelledLine, readLabelled, TRAINING_ONLY_FILES } from '../../src/intent/eval.js';
import { createNgramModel, trainModel } from '../../src/intent/ngram-model.js';
import { normaliseText } from '../../src/intent/rules-classifier.js';
import { backends } from '../support/db.js';
import { loginAs } from '../support/console.js';
import { call, testService } from '../support/service.js';

const OLD = '会退回到您付款的账户';
const NEW = '将原路退回到您的付款账户';

describe.each(backends())('platform studio on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  let editor: string;
  let admin: string;
  let agent: string;

  beforeAll(async () => {
    service = await testService(backend, { clock: new FakeClock(new Date('2026-11-22T09:00:00Z')) });
    editor = (await loginAs(service, 'editor@kefu.demo')).token;
    admin = (await loginAs(service, 'admin@kefu.demo')).token;
    agent = (await loginAs(service, 'agent1@kefu.demo')).token;
  });
  afterAll(async () => {
    await service?.close();
  });

  const refundDoc = async (token: string) => (await call(service, 'GET', '/api/admin/studio/document?id=flows/refund.yaml', { token })).body;

  it('keeps agents out of every studio route, and editors from publishing', async () => {
    for (const [method, path] of [
      ['GET', '/api/admin/studio/documents'],
      ['GET', '/api/admin/studio/document?id=flows/refund.yaml'],
      ['PUT', '/api/admin/studio/draft'],
      ['POST', '/api/admin/studio/publish'],
      ['POST', '/api/admin/studio/rollback'],
      ['POST', '/api/admin/studio/simulate'],
      ['GET', '/api/admin/studio/not-understood'],
    ] as const) {
      const res = await call(service, method, path, { token: agent, ...(method === 'GET' ? {} : { body: {} }) });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    const page = await service.app.request('/admin/studio', { headers: { authorization: `Bearer ${agent}` } });
    expect(page.status).toBe(403);
    const pub = await call(service, 'POST', '/api/admin/studio/publish', { token: editor, body: { documents: ['flows/refund.yaml'] } });
    expect(pub.status).toBe(403);
    expect(pub.body.error.message).toMatch(/admin/);
  });

  it('lists every baseline file as a document', async () => {
    const res = await call(service, 'GET', '/api/admin/studio/documents', { token: editor });
    const ids = res.body.documents.map((d: { id: string }) => d.id);
    expect(ids).toEqual(expect.arrayContaining(['flows/refund.yaml', 'flows/intents.yaml', 'flows/global.yaml', 'flows/handoff-messages.yaml', 'prompts/classify.md', 'prompts/email.yaml', 'transcripts/refund-happy.zh-Hans.yaml']));
    expect(res.body.documents.find((d: { id: string }) => d.id === 'flows/refund.yaml').state).toBe('baseline');
  });

  it('refuses to publish a broken draft and names the line', async () => {
    const base: string = (await refundDoc(editor)).content;
    const lines = base.split('\n');
    const cases: { name: string; content: string; message: RegExp; line: (c: string) => number }[] = [
      {
        name: 'dangling step',
        // In the confirm step itself (other steps, e.g. confirm_suspended, also go to submit).
        content: replaceAfter(base, '\n  confirm:', 'next: submit }', 'next: submit_nowhere }'),
        message: /submit_nowhere.*does not exist/,
        line: () => lines.findIndex((l) => l.startsWith('  confirm:')) + 1,
      },
      {
        name: 'unknown action',
        content: base.replace('action: refund.submit', 'action: refund.teleport'),
        message: /unknown action "refund.teleport"/,
        line: () => lines.findIndex((l) => l.startsWith('  submit:')) + 1,
      },
      {
        name: 'missing translation',
        content: base.replace(/\n      en: "Coupon \{\{coupon\}\} can be refunded[^\n]*/, ''),
        message: /missing translation: en/,
        line: (c) => c.split('\n').findIndex((l) => l.startsWith('  confirm:')) + 3,
      },
    ];
    for (const bad of cases) {
      const saved = await call(service, 'PUT', '/api/admin/studio/draft', { token: editor, body: { id: 'flows/refund.yaml', content: bad.content, comment: bad.name } });
      expect(saved.status, bad.name).toBe(201);
      const res = await call(service, 'POST', '/api/admin/studio/publish', { token: admin, body: { documents: ['flows/refund.yaml'] } });
      expect(res.status, bad.name).toBe(422);
      expect(res.body.error.message, bad.name).toMatch(bad.message);
      expect(res.body.error.message, bad.name).toContain(`flows/refund.yaml line ${bad.line(bad.content)}`);
    }
    // A prompt with a variable the code does not supply.
    const prompt = (await call(service, 'GET', '/api/admin/studio/document?id=prompts/classify.md', { token: editor })).body.content as string;
    const broken = prompt.replace('{{message}}', '{{mesage}}');
    await call(service, 'PUT', '/api/admin/studio/draft', { token: editor, body: { id: 'prompts/classify.md', content: broken } });
    const res = await call(service, 'POST', '/api/admin/studio/publish', { token: admin, body: { documents: ['prompts/classify.md'] } });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(/\{\{mesage\}\} is used but not declared/);
    expect(res.body.error.message).toContain(`line ${broken.split('\n').findIndex((l) => l.includes('{{mesage}}')) + 1}`);
    // Validation as you type says the same, at the line.
    const v = await call(service, 'POST', '/api/admin/studio/validate', { token: editor, body: { id: 'prompts/classify.md', content: broken } });
    expect(v.body.problems[0].line).toBe(broken.split('\n').findIndex((l) => l.includes('{{mesage}}')) + 1);
    await call(service, 'DELETE', '/api/admin/studio/draft?id=prompts/classify.md', { token: editor });
    await call(service, 'DELETE', '/api/admin/studio/draft?id=flows/refund.yaml', { token: editor });
  });

  it('runs a draft in the simulator without writing anything real', async () => {
    const wordings = (await call(service, 'GET', '/api/admin/studio/wording?id=flows/refund.yaml', { token: editor })).body.wordings;
    const confirm = wordings.find((w: { step: string; field: string }) => w.step === 'confirm' && w.field === 'text');
    const saved = await call(service, 'PUT', '/api/admin/studio/wording', {
      token: editor,
      body: { id: 'flows/refund.yaml', path: confirm.path, texts: { 'zh-Hans': confirm.texts['zh-Hans'].replace(OLD, NEW) } },
    });
    expect(saved.status).toBe(201);
    expect(saved.body.problems).toEqual([]);
    const before = await service.database.db.$count(refunds);
    const turns: { text: string; choice: string | null }[] = [{ text: '我想退款', choice: null }];
    const sim = async () => (await call(service, 'POST', '/api/admin/studio/simulate', { token: editor, body: { customerId: DEMO_SENIOR_CUSTOMER_ID, locale: 'zh-Hans', turns } })).body;
    for (const label of ['纪念日', '未使用']) {
      const res = await sim();
      const last = res.turns.at(-1).replies.at(-1);
      const q = last.quickReplies.find((r: { label: string }) => r.label.includes(label));
      turns.push({ text: q.label, choice: q.id });
    }
    let res = await sim();
    expect(res.turns.at(-1).replies[0].text).toContain(NEW);
    turns.push({ text: '确认退款', choice: 'confirm_refund' });
    res = await sim();
    expect(res.turns.at(-1).replies[0].text).toContain('退款成功');
    expect(res.effects.refunds).toBe(1);
    expect(await service.database.db.$count(refunds)).toBe(before);
  });

  it('refuses a publish while a golden transcript fails, then publishes with the updated transcript; rollback restores', async () => {
    const refused = await call(service, 'POST', '/api/admin/studio/publish', { token: admin, body: { documents: ['flows/refund.yaml'] } });
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toMatch(/golden transcript transcripts\/refund-happy\.zh-Hans\.yaml turn 3: expected bot message 1 contains “可以退款：¥398.00 会退回到您付款的账户”/);
    const t = (await call(service, 'GET', '/api/admin/studio/document?id=transcripts/refund-happy.zh-Hans.yaml', { token: editor })).body.content as string;
    await call(service, 'PUT', '/api/admin/studio/draft', { token: editor, body: { id: 'transcripts/refund-happy.zh-Hans.yaml', content: t.replace(`可以退款：¥398.00 ${OLD}`, `可以退款：¥398.00 ${NEW}`) } });
    const ok = await call(service, 'POST', '/api/admin/studio/publish', {
      token: admin,
      body: { documents: ['flows/refund.yaml', 'transcripts/refund-happy.zh-Hans.yaml'], comment: 'clearer refund sentence' },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.transcripts.length).toBeGreaterThanOrEqual(13);
    expect(ok.body.transcripts.every((r: { ok: boolean }) => r.ok)).toBe(true);
    const live = service.studio.liveGlobals();
    expect(live.mainFlow).toBe('main');
    const published = await refundDoc(editor);
    expect(published.published.content).toContain(NEW);
    const audit = await service.database.db.select().from(auditLog).where(and(eq(auditLog.action, 'studio.publish'), eq(auditLog.subjectId, 'flows/refund.yaml')));
    expect(audit).toHaveLength(1);

    const rolled = await call(service, 'POST', '/api/admin/studio/rollback', { token: admin, body: { id: 'flows/refund.yaml', to: 'baseline' } });
    expect(rolled.status).toBe(200);
    expect((await refundDoc(editor)).published).toBeNull();
    expect(await service.database.db.$count(auditLog, eq(auditLog.action, 'studio.rollback'))).toBe(1);
    const diff = await call(service, 'GET', `/api/admin/studio/diff?id=flows/refund.yaml&from=baseline&to=${published.published.id}`, { token: editor });
    expect(diff.body.patch).toContain(`+      zh-Hans: "券 {{coupon}} 可以退款：{{check.amount.text}} ${NEW}`);
  });

  it('scores a lexicon draft and asks before publishing one that lowers accuracy', async () => {
    const lex = (await call(service, 'GET', '/api/admin/studio/document?id=flows/intents.yaml', { token: editor })).body.content as string;
    // Dropping every refund cue makes refund requests unrecognised.
    const worse = lex.replace(/\n  refund:\n[\s\S]*?\n  complaint:/, '\n  refund: []\n  complaint:');
    expect(worse).not.toBe(lex);
    await call(service, 'PUT', '/api/admin/studio/draft', { token: editor, body: { id: 'flows/intents.yaml', content: worse } });
    const score = (await call(service, 'GET', '/api/admin/studio/lexicon/score', { token: editor })).body;
    expect(score.after.perIntent.refund.accuracy).toBeLessThan(score.before.perIntent.refund.accuracy);
    const asked = await call(service, 'POST', '/api/admin/studio/publish', { token: admin, body: { documents: ['flows/intents.yaml'] } });
    // Transcripts that ask for a refund in words fail first; either way nothing is published.
    expect([409, 422]).toContain(asked.status);
    await call(service, 'DELETE', '/api/admin/studio/draft?id=flows/intents.yaml', { token: editor });
  });

  it('lists what the bot did not understand, masked and grouped, and lets an editor label it or add a phrase', async () => {
    const say = async (who: string, text: string) => {
      await service.receive({ channel: 'webchat', externalMessageId: `${who}/${text}`, sender: { externalId: `nu:${who}`, customerId: DEMO_SENIOR_CUSTOMER_ID, displayName: null }, text, choice: null });
      await service.settle();
    };
    await say('a', '你好');
    await say('a', '帮我查一下明天的天气，电话13812345678');
    await say('b', '你好');
    await say('b', '帮我查一下明天的天气吧 13987654321');
    const res = await call(service, 'GET', '/api/admin/studio/not-understood', { token: editor });
    expect(res.status).toBe(200);
    const group = res.body.groups.find((g: { text: string }) => g.text.includes('天气'));
    expect(group.count).toBe(2);
    expect(JSON.stringify(res.body)).not.toContain('13812345678');
    expect(JSON.stringify(res.body)).not.toContain('13987654321');

    const labelled = await call(service, 'POST', '/api/admin/studio/labels', { token: editor, body: { text: group.text, intent: 'other', lang: 'zh-Hans' } });
    expect(labelled.status).toBe(201);
    expect((await service.studio.labelledSet()).some((e) => e.text === group.text && e.intent === 'other')).toBe(true);
    const phrase = await call(service, 'POST', '/api/admin/studio/lexicon/phrase', { token: editor, body: { intent: 'other', locale: 'zh-Hans', phrase: '天气' } });
    expect(phrase.status).toBe(201);
    const doc = await service.studio.document('flows/intents.yaml');
    expect(doc.draft?.content).toContain('天气');
    await call(service, 'DELETE', '/api/admin/studio/draft?id=flows/intents.yaml', { token: editor });
  });

  it("'kefu intents train --studio-labels' learns what editors labelled", async () => {
    // Leaving a group buy (不想参加这个拼团) is in no lexicon phrase and no shipped example.
    const text = '我不想参加这个拼团了';
    const labelled = await call(service, 'POST', '/api/admin/studio/labels', { token: editor, body: { text, intent: 'refund', lang: 'zh-Hans' } });
    expect(labelled.status).toBe(201);
    const shipped = readLabelled([...LABELLED_FILES.map((f) => join(LABELLED_DIR, f)), ...TRAINING_ONLY_FILES]);
    const train = (lines: readonly LabelledLine[]) => createNgramModel(trainModel(lines.map((r) => ({ normalised: normaliseText(r.text), intent: r.intent }))));
    const studio = await studioLabelled(service.database.db);
    expect(studio).toContainEqual({ text, intent: 'refund', lang: 'zh-Hans' });
    expect(train(shipped).predict(normaliseText(text))[0]?.intent).not.toBe('refund');
    expect(train(withStudioLabels(shipped, studio)).predict(normaliseText(text))[0]?.intent).toBe('refund');
  });
});

describe('studio four-eyes rule', () => {
  it('with STUDIO_FOUR_EYES=true the author of a draft cannot publish it', async () => {
    const service = await testService('pglite', { env: { STUDIO_FOUR_EYES: 'true' }, clock: new FakeClock(new Date('2026-11-22T09:00:00Z')) });
    try {
      const admin = (await loginAs(service, 'admin@kefu.demo')).token;
      const doc = (await call(service, 'GET', '/api/admin/studio/document?id=flows/handoff-messages.yaml', { token: admin })).body.content as string;
      await call(service, 'PUT', '/api/admin/studio/draft', { token: admin, body: { id: 'flows/handoff-messages.yaml', content: doc.replace('谢谢您的评价！', '谢谢您的评分！') } });
      const res = await call(service, 'POST', '/api/admin/studio/publish', { token: admin, body: { documents: ['flows/handoff-messages.yaml'] } });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(/Four-eyes/);
    } finally {
      await service.close();
    }
  });
});

/** `text` with the first `from` after `marker` replaced by `to`. */
function replaceAfter(text: string, marker: string, from: string, to: string): string {
  const at = text.indexOf(from, text.indexOf(marker));
  return text.slice(0, at) + to + text.slice(at + from.length);
}
