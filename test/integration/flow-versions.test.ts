import { and, desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/ports.js';
import { conversations, flowVersions, messages } from '../../src/db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../../src/db/seed.js';
import { Flow } from '../../src/engine/flow-schema.js';
import { loadFlows } from '../../src/engine/load-flows.js';
import { FLOWS_DIR } from '../../src/paths.js';
import { backends } from '../support/db.js';
import { testService } from '../support/service.js';

describe.each(backends())('flow versions on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;

  beforeAll(async () => {
    service = await testService(backend, { clock: new FakeClock(new Date('2026-11-22T09:00:00Z')) });
  });
  afterAll(async () => {
    await service?.close();
  });

  async function send(text: string, n: number) {
    const externalId = 'versions-visitor';
    const result = await service.receive({
      channel: 'webchat',
      externalMessageId: `${externalId}/${n}`,
      sender: { externalId, customerId: DEMO_SENIOR_CUSTOMER_ID },
      text,
      identity: { level: 'proven', basis: 'signed_session' },
    });
    await service.settle();
    return result;
  }

  it('stores a snapshot of every loaded flow version at start', async () => {
    const rows = await service.database.db.select().from(flowVersions);
    const current = loadFlows(FLOWS_DIR);
    for (const { flow, version } of current.flows.values()) {
      expect(rows.some((r) => r.flowId === flow.id && r.version === version)).toBe(true);
    }
  });

  it('continues a conversation on a version this process never loaded, from the stored snapshot', async () => {
    const db = service.database.db;
    const refund = loadFlows(FLOWS_DIR).flows.get('refund');
    if (!refund) throw new Error('no refund flow');
    // An older version of the refund flow, published by another instance before the file changed.
    const older = Flow.parse(JSON.parse(JSON.stringify(refund.flow).replace('要退哪一张券？', '旧版本：请选一张券')));
    await db.insert(flowVersions).values({ flowId: 'refund', version: 'older-version', definition: Flow.encode(older) });

    const started = await send('我想退款', 1);
    const [conversation] = await db.select().from(conversations).where(eq(conversations.id, started.conversationId));
    await db
      .update(conversations)
      .set({ state: { ...conversation?.state, flowVersion: 'older-version' }, flowVersion: 'older-version' })
      .where(eq(conversations.id, started.conversationId));

    await send('1', 2);
    const [reply] = await db
      .select({ text: messages.text })
      .from(messages)
      .where(and(eq(messages.conversationId, started.conversationId), eq(messages.direction, 'out')))
      .orderBy(desc(messages.seq))
      .limit(1);
    expect(reply?.text).toMatch(/旧版本：请选一张券/);
    const [after] = await db.select().from(conversations).where(eq(conversations.id, started.conversationId));
    expect(after?.flowVersion).toBe('older-version');
  });
});
