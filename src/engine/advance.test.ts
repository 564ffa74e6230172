import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Classification, type ClassifyContext, type IntentClassifier } from '../core/intent.js';
import type { Locale } from '../core/message.js';
import { FLOWS_DIR } from '../paths.js';
import { type ActionPort, type AdvanceDeps, advance, type FlowEvent, type HandoffPort } from './advance.js';
import { FlowLibrary } from './flow-library.js';
import { loadFlows } from './load-flows.js';
import { type FlowState, initialState, parseState } from './state.js';

/** A classifier that answers from a script and records what it was asked. */
function scripted(script: Record<string, Partial<Classification>>): IntentClassifier & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async classify(text: string, _context: ClassifyContext) {
      asked.push(text);
      return Classification.parse({ intent: 'other', confidence: 0.3, slots: {}, source: 'rules', ...script[text] });
    },
  };
}

/** Actions that answer scripted outcomes and record each call. */
function fakeActions(answers: Record<string, { outcome: string; data: Record<string, unknown> }>): ActionPort & { calls: { name: string; input: unknown }[] } {
  const calls: { name: string; input: unknown }[] = [];
  return {
    calls,
    async run(name, input) {
      calls.push({ name, input });
      const answer = answers[name];
      if (!answer) throw new Error(`no scripted answer for ${name}`);
      return answer;
    },
  };
}

function fakeHandoff(): HandoffPort & { opened: unknown[] } {
  const opened: unknown[] = [];
  return {
    opened,
    async open(input) {
      opened.push(input);
      return { ticketNumber: `T-${opened.length}` };
    },
  };
}

const RECENT = {
  outcome: 'found',
  data: {
    count: 2,
    orders: [
      { id: 'o1', orderNumber: 'KF11111111', title: '双人纪念日晚宴套餐', orderedOn: '2026-11-20' },
      { id: 'o2', orderNumber: 'KF22222222', title: 'IMAX', orderedOn: '2026-11-16' },
    ],
  },
};

function event(text: string, options: Partial<FlowEvent['conversation']> & { choice?: string; locale?: Locale } = {}): FlowEvent {
  return {
    text,
    choice: options.choice ?? null,
    attachments: [],
    conversation: { status: options.status ?? 'bot', priority: options.priority ?? 0, locale: options.locale ?? 'zh-Hans', firstResponseDueAt: options.firstResponseDueAt ?? null },
  };
}

const library = new FlowLibrary(loadFlows(FLOWS_DIR));
const NOW = new Date('2026-11-22T09:00:00Z');

function deps(classifier: IntentClassifier, actions: ActionPort = fakeActions({ 'orders.recent': RECENT }), handoff: HandoffPort = fakeHandoff()): AdvanceDeps {
  return { classifier, actions, handoff, now: NOW };
}

describe('advance', () => {
  const temp = mkdtempSync(join(tmpdir(), 'kefu-flows-'));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it('jumps from a first message straight into the flow it asks for, orders as buttons and a person at the end', async () => {
    const classifier = scripted({ 我想退款: { intent: 'refund', confidence: 0.8 } });
    const actions = fakeActions({ 'orders.recent': RECENT });
    const result = await advance(library, initialState(), event('我想退款'), deps(classifier, actions));
    expect(result.flowId).toBe('refund');
    expect(result.state.step).toBe('pick_order');
    expect(actions.calls).toEqual([{ name: 'orders.recent', input: { limit: 5 } }]);
    expect(result.outbound).toHaveLength(1);
    expect(result.outbound[0]?.text).toMatch(/是哪一个订单/);
    expect(result.outbound[0]?.quickReplies.map((q) => q.id)).toEqual(['pick:KF11111111', 'pick:KF22222222', 'other_order', 'human']);
    expect(result.effects.map((e) => e.type)).toEqual(['action', 'ask']);
  });

  it('is deterministic: the same state and message give the same answer', async () => {
    const run = () => advance(library, initialState(), event('我想退款'), deps(scripted({ 我想退款: { intent: 'refund', confidence: 0.8 } })));
    expect(await run()).toEqual(await run());
  });

  it('does not ask the classifier when a button was pressed', async () => {
    const classifier = scripted({});
    const first = await advance(library, initialState(), event('hi', { locale: 'en' }), deps(classifier));
    classifier.asked.length = 0;
    const pressed = await advance(library, first.state, event('Request a refund', { choice: 'refund', locale: 'en' }), deps(classifier));
    expect(pressed.state.step).toBe('pick_order');
    expect(classifier.asked).toEqual([]);
  });

  it('hands off with customer_request when the consumer asks for a person in the middle of a flow, in any language', async () => {
    const classifier = scripted({ 我想退款: { intent: 'refund', confidence: 0.8 }, '人と話したい': { intent: 'human', confidence: 0.9 } });
    const handoff = fakeHandoff();
    const first = await advance(library, initialState(), event('我想退款'), deps(classifier));
    const second = await advance(library, first.state, event('人と話したい'), deps(classifier, undefined, handoff));
    expect(second.effects).toContainEqual({ type: 'handoff', reason: 'customer_request', priority: 0, ticketNumber: 'T-1' });
    expect(handoff.opened).toEqual([expect.objectContaining({ reason: 'customer_request', slots: expect.objectContaining({ flow: 'refund', step: 'pick_order' }) })]);
    expect(second.state).toMatchObject({ flowId: null, handoff: { ticketNumber: 'T-1', acknowledged: false } });
    expect(second.outbound[0]?.text).toMatch(/T-1/);
  });

  it('hands off with not_understood after two failed understandings in a row, not after one', async () => {
    const first = await advance(library, initialState(), event('你好'), deps(scripted({})));
    const miss = await advance(library, first.state, event('xyzzy'), deps(scripted({})));
    expect(miss.effects.some((e) => e.type === 'handoff')).toBe(false);
    expect(miss.state.misses).toBe(1);
    const handoff = fakeHandoff();
    const again = await advance(library, miss.state, event('plugh'), deps(scripted({}), undefined, handoff));
    expect(again.effects).toContainEqual(expect.objectContaining({ type: 'handoff', reason: 'not_understood' }));
  });

  it('raises the priority of an angry consumer, and hands an angry complaint to a person at once', async () => {
    const classifier = scripted({
      气死我了: { intent: 'other', confidence: 0.5, sentiment: 'angry' },
      什么破店我要投诉: { intent: 'complaint', confidence: 0.9, sentiment: 'angry' },
    });
    const angry = await advance(library, initialState(), event('气死我了'), deps(classifier));
    expect(angry.priority).toBe(2);
    expect(angry.effects.some((e) => e.type === 'handoff')).toBe(false);
    const complaint = await advance(library, initialState(), event('什么破店我要投诉'), deps(classifier));
    expect(complaint.effects).toContainEqual({ type: 'handoff', reason: 'anger', priority: 2, ticketNumber: 'T-1' });
  });

  it('stays silent while a person owns the case, except one acknowledgement with ticket and wait', async () => {
    const waiting: FlowState = { ...initialState(), handoff: { ticketNumber: 'T-9', acknowledged: false } };
    const due = new Date(NOW.getTime() + 45 * 60_000);
    const ack = await advance(library, waiting, event('有人吗', { status: 'waiting', firstResponseDueAt: due }), deps(scripted({})));
    expect(ack.outbound.map((o) => o.text)).toEqual(['收到您的消息了。工单 T-9 正在排队，人工客服大约 45 分钟内回复您。']);
    const quiet = await advance(library, ack.state, event('还要等多久', { status: 'waiting', firstResponseDueAt: due }), deps(scripted({})));
    expect(quiet.outbound).toEqual([]);
    const assigned = await advance(library, ack.state, event('你好', { status: 'assigned' }), deps(scripted({})));
    expect(assigned.outbound).toEqual([]);
  });

  it('while queued for a person, a guide still answers, keeps the ticket and opens no second case', async () => {
    const queued: FlowState = { ...initialState(), handoff: { ticketNumber: 'T-9', acknowledged: true } };
    const due = new Date(NOW.getTime() + 45 * 60_000);
    const waitingEvent = (text: string, choice?: string) => event(text, { status: 'waiting', firstResponseDueAt: due, ...(choice ? { choice } : {}) });
    const classifier = scripted({
      我不会注册: { intent: 'account_help', confidence: 0.9 },
      我要找人: { intent: 'human', confidence: 0.95 },
      我的券在店里不能用他们态度很差: { intent: 'complaint', confidence: 0.9 },
    });
    const handoff = fakeHandoff();
    const guide = await advance(library, queued, waitingEvent('我不会注册'), deps(classifier, undefined, handoff));
    expect(guide.flowId).toBe('account');
    expect(guide.outbound.at(-1)?.quickReplies.map((q) => q.id)).toContain('register');
    const step1 = await advance(library, guide.state, waitingEvent('注册账号', 'register'), deps(classifier, undefined, handoff));
    expect(step1.outbound[0]?.text).toMatch(/^第 1 步（共 3 步）/);
    expect(step1.state.handoff).toEqual({ ticketNumber: 'T-9', acknowledged: true });
    expect(guide.status).toBeNull(); // still waiting: the case keeps its place
    expect(guide.priority).toBe(0);
    expect(guide.state.handoff).toEqual({ ticketNumber: 'T-9', acknowledged: true });

    // Asking for a person again: the same ticket, no second case, the menu button for the guides.
    const again = await advance(library, guide.state, waitingEvent('我要找人'), deps(classifier, undefined, handoff));
    expect(again.outbound).toEqual([
      { text: '您已经在排队了（工单 T-9），排队位置不变，人工客服大约 45 分钟内回复您。等待的时候，您也可以点下面的按钮自己先看看。', quickReplies: [{ id: 'menu', label: '还有别的问题' }] },
    ]);
    const pressed = await advance(library, guide.state, waitingEvent('找人工客服', 'human'), deps(classifier, undefined, handoff));
    expect(pressed.outbound[0]?.text).toMatch(/已经在排队了（工单 T-9）/);
    // The "something else" button shows the main menu; its complaint entry would hand off: not again.
    const menu = await advance(library, again.state, waitingEvent('还有别的问题', 'menu'), deps(classifier, undefined, handoff));
    expect(menu.outbound.at(-1)?.quickReplies.map((q) => q.id)).toContain('complaint');
    expect(handoff.opened).toEqual([]);
    expect(again.state.handoff).toEqual({ ticketNumber: 'T-9', acknowledged: true });

    // The consumer's story for the agent gets no bot answer (the acknowledgement was given).
    const story = await advance(library, queued, waitingEvent('我的券在店里不能用他们态度很差'), deps(classifier, undefined, handoff));
    expect(story.outbound).toEqual([]);
    expect(handoff.opened).toEqual([]);
  });

  it('the first self-service answer while queued starts with the queue acknowledgement', async () => {
    const queued: FlowState = { ...initialState(), handoff: { ticketNumber: 'T-9', acknowledged: false } };
    const due = new Date(NOW.getTime() + 30 * 60_000);
    const result = await advance(library, queued, event('我不会注册', { status: 'waiting', firstResponseDueAt: due }), deps(scripted({ 我不会注册: { intent: 'account_help', confidence: 0.9 } })));
    expect(result.outbound[0]?.text).toMatch(/^收到您的消息了。工单 T-9 正在排队，人工客服大约 30 分钟内回复您。\n/);
    expect(result.state.handoff).toEqual({ ticketNumber: 'T-9', acknowledged: true });
  });

  it('answers a voice note without text on any channel: cannot listen yet, then the buttons again, and counts no miss', async () => {
    const voice = { kind: 'audio', filename: null, contentType: 'audio/ogg', size: 9000, ref: 'voice-1', inline: false };
    const voiceEvent = (options: Parameters<typeof event>[1] = {}): FlowEvent => ({ ...event('', options), attachments: [voice] });
    const classifier = scripted({});
    const fresh = await advance(library, initialState(), voiceEvent(), deps(classifier));
    expect(fresh.outbound).toHaveLength(1);
    expect(fresh.outbound[0]?.text).toMatch(/^收到您的语音了.*还听不了语音.*\n.*您好/s);
    expect(fresh.outbound[0]?.quickReplies.map((q) => q.id)).toEqual(['account_help', 'refund', 'complaint', 'refund_status', 'order_help', 'human']);
    expect(classifier.asked).toEqual([]);

    // In the middle of a flow the waiting question comes again, in the conversation's language.
    const inRefund = await advance(library, initialState(), event('I want a refund', { locale: 'en' }), deps(scripted({ 'I want a refund': { intent: 'refund', confidence: 0.8 } })));
    const again = await advance(library, inRefund.state, voiceEvent({ locale: 'en' }), deps(classifier));
    expect(again.outbound[0]?.text).toMatch(/^We got your voice message.*\n.*Which order/s);
    expect(again.outbound[0]?.quickReplies.map((q) => q.id)).toEqual(['pick:KF11111111', 'pick:KF22222222', 'other_order', 'human']);
    expect(again.state).toMatchObject({ flowId: 'refund', step: 'pick_order', misses: 0 });

    // A voice note with a caption, or a photo, is read as usual; a person owning the case hears it instead.
    const photo = await advance(library, initialState(), { ...event(''), attachments: [{ ...voice, kind: 'image' }] }, deps(classifier));
    expect(photo.outbound[0]?.text).not.toMatch(/语音/);
    const waiting: FlowState = { ...initialState(), handoff: { ticketNumber: 'T-9', acknowledged: true } };
    const owned = await advance(library, waiting, voiceEvent({ status: 'assigned' }), deps(classifier));
    expect(owned.outbound).toEqual([]);
  });

  it('switches language on request and repeats the question in it', async () => {
    const first = await advance(library, initialState(), event('你好'), deps(scripted({})));
    const hant = await advance(library, first.state, event('繁體'), deps(scripted({})));
    expect(hant.locale).toBe('zh-Hant');
    expect(hant.state.localeLocked).toBe(true);
    expect(hant.outbound[0]?.text).toMatch(/請問您需要什麼幫助/);
    // Once chosen, the language is not detected away again.
    const later = await advance(library, hant.state, event('Hello', { locale: 'zh-Hant' }), deps(scripted({ Hello: { confidence: 0.7 } })));
    expect(later.locale).toBe('zh-Hant');
  });

  it('keeps a conversation on the flow version it started on after the flow file changes', async () => {
    cpSync(FLOWS_DIR, temp, { recursive: true });
    const live = new FlowLibrary(loadFlows(temp));
    const classifier = scripted({ 我想退款: { intent: 'refund', confidence: 0.8 }, 退款: { intent: 'refund', confidence: 0.8 } });
    const started = await advance(live, initialState(), event('我想退款'), deps(classifier));
    const refundFile = join(temp, 'refund.yaml');
    writeFileSync(refundFile, readFileSync(refundFile, 'utf8').replace('要退哪一张券？', '请选择要退的券：'));
    live.replace(loadFlows(temp));
    expect(live.current('refund')?.version).not.toBe(started.flowVersion);

    const pinned = await advance(live, started.state, event('1'), deps(classifier, fakeActions({ 'orders.find': { outcome: 'found', data: { order: { id: 'o1', orderNumber: 'KF11111111', title: '晚宴', coupons: [{ code: 'AAAA-BBBB-CCCC', state: 'unused' }] } } } })));
    expect(pinned.flowVersion).toBe(started.flowVersion);
    expect(pinned.outbound[0]?.text).toMatch(/要退哪一张券？/);

    const fresh = await advance(live, initialState(), event('退款'), deps(classifier));
    expect(fresh.flowVersion).toBe(live.current('refund')?.version);
  });

  it('starts over at the main menu when the pinned version is unknown to this process', async () => {
    const state: FlowState = { ...initialState(), flowId: 'refund', flowVersion: 'gone', step: 'pick_order' };
    const result = await advance(library, state, event('你好'), deps(scripted({})));
    expect(result.flowId).toBe('main');
    expect(result.outbound[0]?.text).toMatch(/您好/);
  });
});

describe('conversation state', () => {
  it('migrates the menu-era state (version 1, or nothing) to the current version', () => {
    expect(parseState({})).toEqual({ state: initialState(), migrated: true });
    expect(parseState({ version: 1 })).toEqual({ state: initialState(), migrated: true });
    expect(parseState({ version: 99, step: 3 }).state).toEqual(initialState());
    const current = { ...initialState(), flowId: 'refund', flowVersion: 'abc', step: 'confirm', slots: { coupon: 'X' } };
    expect(parseState(JSON.parse(JSON.stringify(current)))).toEqual({ state: current, migrated: false });
  });
});
