import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { FakeClock } from '../../src/core/ports.js';
import { openDatabase, rowsOf } from '../../src/db/client.js';
import { messages } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { silentLogger } from '../../src/logger.js';
import { createService } from '../../src/service.js';
import { backends } from '../support/db.js';
import { loginAs } from '../support/console.js';
import { withDatabase } from '../support/global-setup.js';
import { call, testService } from '../support/service.js';

const OLD = '会退回到您付款的账户';
const NEW = '将原路退回到您的付款账户';
type Svc = Awaited<ReturnType<typeof testService>>;

/** A web chat visitor talking to the bot through the real pipeline. */
function visitor(service: Svc, name: string) {
  let n = 0;
  let lastSeq = 0;
  let conversationId = '';
  let buttons: { id: string; label: string }[] = [];
  return async (input: { text?: string; press?: string }): Promise<string[]> => {
    const q = input.press ? buttons.find((b) => b.label.includes(input.press ?? '')) : undefined;
    if (input.press && !q) throw new Error(`no button ${input.press} in ${JSON.stringify(buttons)}`);
    const result = await service.receive({
      channel: 'webchat',
      externalMessageId: `${name}/${(n += 1)}`,
      sender: { externalId: `studio-live:${name}`, customerId: DEMO_SENIOR_CUSTOMER_ID, displayName: '王秀兰' },
      // A signed web chat session: the demo customer is proven, so account actions (refunds) run.
      identity: { level: 'proven', basis: 'signed_session' },
      text: q?.label ?? input.text ?? '',
      choice: q?.id ?? null,
    });
    conversationId = result.conversationId;
    await service.settle();
    const out = await service.database.db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, conversationId), eq(messages.direction, 'out'), gt(messages.seq, lastSeq)))
      .orderBy(asc(messages.seq));
    lastSeq = out.at(-1)?.seq ?? lastSeq;
    buttons = out.at(-1)?.quickReplies ?? buttons;
    return out.map((m) => m.text);
  };
}

async function publishNewSentence(service: Svc, editor: string, admin: string): Promise<void> {
  const wordings = (await call(service, 'GET', '/api/admin/studio/wording?id=flows/refund.yaml', { token: editor })).body.wordings;
  const confirm = wordings.find((w: { step: string; field: string }) => w.step === 'confirm' && w.field === 'text');
  await call(service, 'PUT', '/api/admin/studio/wording', {
    token: editor,
    body: { id: 'flows/refund.yaml', path: confirm.path, texts: { 'zh-Hans': confirm.texts['zh-Hans'].replace(OLD, NEW) } },
  });
  const t = (await call(service, 'GET', '/api/admin/studio/document?id=transcripts/refund-happy.zh-Hans.yaml', { token: editor })).body.content as string;
  await call(service, 'PUT', '/api/admin/studio/draft', { token: editor, body: { id: 'transcripts/refund-happy.zh-Hans.yaml', content: t.replace(OLD, NEW) } });
  const res = await call(service, 'POST', '/api/admin/studio/publish', { token: admin, body: { documents: ['flows/refund.yaml', 'transcripts/refund-happy.zh-Hans.yaml'] } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

describe.each(backends())('studio publish reaching conversations on %s', (backend) => {
  let service: Svc;
  beforeAll(async () => {
    service = await testService(backend, { clock: new FakeClock(new Date('2026-11-22T09:00:00Z')) });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('new conversations get the published sentence, one started before keeps its version; rollback restores', async () => {
    const editor = (await loginAs(service, 'editor@kefu.demo')).token;
    const admin = (await loginAs(service, 'admin@kefu.demo')).token;
    const before = visitor(service, 'before');
    await before({ text: '我想退款' });
    expect((await before({ press: '纪念日' })).join()).toContain('要退哪一张券');

    await publishNewSentence(service, editor, admin);

    expect((await before({ press: '未使用' })).join()).toContain(OLD);
    const after = visitor(service, 'after');
    await after({ text: '我想退款' });
    await after({ press: '纪念日' });
    expect((await after({ press: '未使用' })).join()).toContain(NEW);

    const rolled = await call(service, 'POST', '/api/admin/studio/rollback', { token: admin, body: { id: 'flows/refund.yaml', to: 'baseline' } });
    expect(rolled.status).toBe(200);
    const later = visitor(service, 'later');
    await later({ text: '我想退款' });
    await later({ press: '纪念日' });
    expect((await later({ press: '未使用' })).join()).toContain(OLD);
  });
});

describe.runIf(backends().includes('postgres'))('studio publish across instances on PostgreSQL', () => {
  it('a publish through instance A is used by instance B within 5 s', async () => {
    const a = await testService('postgres', { clock: new FakeClock(new Date('2026-11-22T09:00:00Z')) });
    const rows = await a.database.db.execute(sql`select current_database() as name`);
    const name = String(rowsOf<{ name: string }>(rows)[0]?.name);
    const databaseB = await openDatabase({ kind: 'postgres', url: withDatabase(process.env.TEST_DATABASE_URL ?? '', name) });
    const b = await createService({
      config: loadConfig({ DATABASE_URL: withDatabase(process.env.TEST_DATABASE_URL ?? '', name), LOG_LEVEL: 'silent' }),
      logger: silentLogger,
      database: databaseB,
      seedIfEmpty: false,
    });
    try {
      const text = () => JSON.stringify(b.studio.liveFlow('refund')?.flow.steps.confirm);
      expect(text()).toContain(OLD);
      const editor = (await loginAs(a, 'editor@kefu.demo')).token;
      const admin = (await loginAs(a, 'admin@kefu.demo')).token;
      await publishNewSentence(a, editor, admin);
      const published = Date.now();
      while (!text().includes(NEW) && Date.now() - published < 5000) await new Promise((r) => setTimeout(r, 50));
      expect(text()).toContain(NEW);
      expect(Date.now() - published).toBeLessThan(5000);
    } finally {
      await b.stop();
      await databaseB.close();
      await a.close();
    }
  });
});
