import type { Classification, IntentClassifier } from '../core/intent.js';
import { AppError } from '../core/errors.js';
import { type IdentityLevel, type ProofRemedy, ProofRequired } from '../core/identity.js';
import { detectLocale } from '../core/locale.js';
import { type Locale, type QuickReply, SHARE_PHONE_REPLY_ID } from '../core/message.js';
import type { DynamicOptions, Extractor, Flow, HandoffReason, Option, Step, StepKind, StepOf, Text } from './flow-schema.js';
import type { FlowLibrary } from './flow-library.js';
import type { FlowState } from './state.js';
import { pickText, readPath, render, resolveValue } from './template.js';

/** One consumer message as the engine sees it (already masked). */
export interface FlowEvent {
  text: string;
  /** The id of the quick reply pressed, if any. */
  choice: string | null;
  /** Files that came with the message (photos), as stored. */
  attachments: Record<string, unknown>[];
  conversation: {
    status: 'bot' | 'waiting' | 'assigned' | 'resolved' | 'closed';
    priority: number;
    locale: Locale;
    firstResponseDueAt: Date | null;
  };
  /**
   * Who wrote this message, as proven by the channel, and how they can prove it there. Account
   * actions refuse unproven senders themselves (ProofRequired); the engine answers with the way
   * to prove it. Absent = not proven.
   */
  identity?: { level: IdentityLevel; remedy: ProofRemedy | null };
  /**
   * The conversation's first answer on a channel that opens without a greeting and has no buttons
   * (email): it starts with the greeting and the main menu's options in words.
   */
  greet?: boolean;
}

/** Runs a registered action inside the turn's transaction. */
export interface ActionPort {
  run(name: string, input: Record<string, unknown>): Promise<{ outcome: string; data: Record<string, unknown> }>;
}

/** Opens a handoff to humans inside the turn's transaction. */
export interface HandoffPort {
  open(input: { reason: HandoffReason; priority: number; slots: Record<string, unknown>; callbackPhone: string | null }): Promise<{ ticketNumber: string }>;
}

export interface AdvanceDeps {
  classifier: IntentClassifier;
  actions: ActionPort;
  handoff: HandoffPort;
  now: Date;
}

/** One message the engine wants sent. */
export interface Outbound {
  text: string;
  quickReplies: QuickReply[];
}

/** What a turn did, in order: for transcripts, audits and tests. */
export type Effect =
  | { type: 'say'; text: string }
  | { type: 'ask'; text: string; quickReplies: QuickReply[] }
  | { type: 'action'; name: string; input: Record<string, unknown>; outcome: string }
  | { type: 'handoff'; reason: HandoffReason; priority: number; ticketNumber: string }
  | { type: 'priority'; priority: number }
  | { type: 'locale'; locale: Locale }
  | { type: 'cancel_handoff' }
  | { type: 'proof_required'; action: string; repeated: boolean }
  | { type: 'end' };

export interface AdvanceResult {
  state: FlowState;
  outbound: Outbound[];
  effects: Effect[];
  locale: Locale;
  priority: number;
  /** Set when the turn changed who owns the conversation (cancelled handoff). A handoff sets it itself. */
  status: 'bot' | null;
  /** The flow and version now running (null when none). */
  flowId: string | null;
  flowVersion: string | null;
}

const ANGER_PRIORITY = 2;
/** An unproven sender is told how to prove who they are at most this often per conversation. */
const PROOF_REPEAT_MS = 10 * 60_000;
const MAX_TRANSITIONS = 64;
const INTENT_CONFIDENCE = 0.5;

/** Normalises text for matching labels and commands: case, width, spaces and trailing punctuation. */
export function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s\u3000]+/g, ' ')
    .replace(/^[\s"'“”「」]+|[\s.!?。！？~～"'“”「」]+$/gu, '')
    .trim();
}

type Input = { text: string; norm: string; choice: string | null; attachments: Record<string, unknown>[] };
type Next = { kind: 'goto'; step: string } | { kind: 'wait' } | { kind: 'stop' };

/** What one executor gets: the turn in progress. */
class Turn {
  readonly outbound: Outbound[] = [];
  readonly effects: Effect[] = [];
  status: 'bot' | null = null;
  flow: Flow | null = null;
  /**
   * Set while the case waits for a person and the consumer uses the bot meanwhile: a handoff then
   * opens no second case; the consumer hears that the place in the queue stays.
   */
  queued: { ticketNumber: string; waitMinutes: number } | null = null;
  private classified: Classification | null = null;

  constructor(
    readonly library: FlowLibrary,
    public state: FlowState,
    public locale: Locale,
    public priority: number,
    readonly input: Input,
    readonly deps: AdvanceDeps,
    readonly identity: { level: IdentityLevel; remedy: ProofRemedy | null } = { level: 'anonymous', remedy: null },
  ) {}

  text(text: Text, extra: Record<string, unknown> = {}): string {
    return render(pickText(text, this.locale), { ...this.state.slots, ...extra }, this.locale);
  }

  /** Said at the start of the next message rather than as a message of its own ("Sorry, I didn't understand" + the question). */
  private prefix: string | null = null;

  lead(text: string): void {
    this.prefix = this.prefix ? `${this.prefix}\n${text}` : text;
  }

  private withPrefix(text: string): string {
    const full = this.prefix ? `${this.prefix}\n${text}` : text;
    this.prefix = null;
    return full;
  }

  say(text: string): void {
    const full = this.withPrefix(text);
    this.outbound.push({ text: full, quickReplies: [] });
    this.effects.push({ type: 'say', text: full });
  }

  /** A flow's final message: with "anything else?" buttons (menu, person) when global.yaml names them. */
  finish(text: string): void {
    const menu = this.library.globals.menuOption;
    if (menu) this.ask(text, [{ id: menu.id, label: pickText(menu.label, this.locale) }]);
    else this.say(text);
  }

  ask(text: string, quickReplies: QuickReply[]): void {
    const human = this.library.globals.humanOption;
    const all = [...quickReplies, { id: human.id, label: pickText(human.label, this.locale) }];
    const full = this.withPrefix(text);
    this.outbound.push({ text: full, quickReplies: all });
    this.effects.push({ type: 'ask', text: full, quickReplies: all });
  }

  /** The classifier's view of the text, asked at most once per turn and only when needed. */
  async classification(): Promise<Classification> {
    if (!this.classified) {
      this.classified = await this.deps.classifier.classify(this.input.text, {
        locale: this.locale,
        step: this.state.flowId && this.state.step ? `${this.state.flowId}.${this.state.step}` : null,
        recentTurns: [],
      });
    }
    return this.classified;
  }

  raisePriority(priority: number): void {
    if (priority > this.priority) {
      this.priority = priority;
      this.effects.push({ type: 'priority', priority });
    }
  }

  enterFlow(flowId: string, step?: string): string {
    const found = this.library.current(flowId);
    if (!found) throw new AppError('internal', `unknown flow ${flowId}`);
    this.flow = found.flow;
    this.state = { ...this.state, flowId, flowVersion: found.version, step: null, retries: 0 };
    return step ?? found.flow.start;
  }

  clearFlow(): void {
    this.flow = null;
    this.state = { ...this.state, flowId: null, flowVersion: null, step: null, slots: {}, retries: 0, misses: 0, proofPending: null };
  }

  /**
   * An account action refused the unproven sender: stop the flow (nothing it collected carries
   * over), and tell them how to prove who they are on their channel, at most once per
   * PROOF_REPEAT_MS. Where they can prove it in this conversation, a proven message resumes the flow.
   */
  requireProof(action: string, flowId: string | null): void {
    const previous = this.state.proofPending ?? null;
    const now = this.deps.now.getTime();
    const repeated = previous !== null && now - Date.parse(previous.askedAt) < PROOF_REPEAT_MS;
    this.clearFlow();
    this.effects.push({ type: 'proof_required', action, repeated });
    const { proofRequired } = this.library.globals.messages;
    const remedy = this.identity.remedy ?? 'sign_in';
    const pendingFlow = flowId ?? previous?.flowId ?? null;
    if (remedy !== 'sign_in' && pendingFlow !== null) {
      this.state = { ...this.state, proofPending: { flowId: pendingFlow, askedAt: repeated && previous ? previous.askedAt : this.deps.now.toISOString() } };
    }
    if (repeated) return;
    switch (remedy) {
      case 'reply':
        return this.say(this.text(proofRequired.reply));
      case 'share_contact':
        return this.ask(this.text(proofRequired.shareContact), [{ id: SHARE_PHONE_REPLY_ID, label: this.text(proofRequired.shareButton) }]);
      case 'sign_in':
        return this.say(this.text(proofRequired.signIn));
    }
  }

  /** Already waiting for a person: no second case, the place in the queue stays; the menu button offers the guides. */
  stillQueued(): void {
    if (!this.queued) return;
    const full = this.withPrefix(this.text(this.library.globals.messages.stillQueued, this.queued));
    const menu = this.library.globals.menuOption;
    const quickReplies = menu ? [{ id: menu.id, label: pickText(menu.label, this.locale) }] : [];
    this.outbound.push({ text: full, quickReplies });
    this.effects.push(quickReplies.length > 0 ? { type: 'ask', text: full, quickReplies } : { type: 'say', text: full });
  }

  async handoff(reason: HandoffReason, text: Text, priority: number, callbackPhone: string | null): Promise<void> {
    if (this.queued) {
      this.clearFlow();
      return this.stillQueued();
    }
    const p = Math.max(priority, this.priority);
    const slots = { ...this.state.slots, ...(this.state.flowId ? { flow: this.state.flowId, step: this.state.step } : {}) };
    const { ticketNumber } = await this.deps.handoff.open({ reason, priority: p, slots, callbackPhone });
    this.priority = p;
    this.effects.push({ type: 'handoff', reason, priority: p, ticketNumber });
    this.say(render(pickText(text, this.locale), { ...this.state.slots, ticketNumber }, this.locale));
    this.clearFlow();
    this.state = { ...this.state, handoff: { ticketNumber, acknowledged: false } };
  }
}

interface Executor<K extends StepKind> {
  /** Runs when the flow arrives at the step. */
  enter(turn: Turn, step: StepOf<K>): Promise<Next>;
  /** Handles the consumer's answer while the step waits (only `ask` and `choose` wait). */
  answer?(turn: Turn, step: StepOf<K>): Promise<Next | null>;
}

/** Quick replies of a choose/ask step, static options first, then those built from a list slot. */
type DynamicItem = { id: string; value: string; item: Record<string, unknown>; from: DynamicOptions };

function dynamicItems(turn: Turn, lists: DynamicOptions[]): DynamicItem[] {
  const items: DynamicItem[] = [];
  for (const from of lists) {
    const list = readPath(turn.state.slots, from.list);
    if (!Array.isArray(list)) continue;
    let taken = 0;
    for (const entry of list) {
      if (entry === null || typeof entry !== 'object' || taken >= from.max) continue;
      const item: Record<string, unknown> = { ...entry };
      if (from.when && item[from.when.field] !== from.when.equals) continue;
      const value = item[from.value];
      if (typeof value !== 'string' && typeof value !== 'number') continue;
      items.push({ id: `pick:${String(value)}`.slice(0, 64), value: String(value), item, from });
      taken += 1;
    }
  }
  return items;
}

function quickReplies(turn: Turn, options: Option[], lists: DynamicOptions[] = []): QuickReply[] {
  const dynamic = dynamicItems(turn, lists).map((d) => ({ id: d.id, label: render(pickText(d.from.label, turn.locale), d.item, turn.locale).slice(0, 200) }));
  return [...dynamic, ...options.map((o) => ({ id: o.id, label: pickText(o.label, turn.locale) }))];
}

/** Which option the input picks: pressed button, its number, its label in any locale, or what it means. */
async function matchOption(turn: Turn, options: Option[], lists: DynamicOptions[]): Promise<Next | null> {
  const { input } = turn;
  const dynamic = dynamicItems(turn, lists);
  const pick = (o: Option): Next => {
    if (o.set) turn.state = { ...turn.state, slots: { ...turn.state.slots, ...o.set } };
    return { kind: 'goto', step: o.next };
  };
  // Free text that picks an option by what it means may also name the order ("我的订单号是KF…，想退"):
  // the flow it leads to gets it as `orderRef` and need not ask again.
  const pickSaying = (o: Option, c: Classification): Next => {
    const ref = c.slots.orderNumber ?? c.slots.couponCode;
    if (ref && o.intent) turn.state = { ...turn.state, slots: { ...turn.state.slots, orderRef: ref } };
    return pick(o);
  };
  const pickDynamic = (d: DynamicItem): Next => {
    turn.state = { ...turn.state, slots: { ...turn.state.slots, [d.from.slot]: d.value } };
    return { kind: 'goto', step: d.from.next };
  };
  if (input.choice) {
    const d = dynamic.find((x) => x.id === input.choice);
    if (d) return pickDynamic(d);
    const o = options.find((x) => x.id === input.choice);
    if (o) return pick(o);
  }
  if (/^\d{1,2}$/.test(input.norm)) {
    const n = Number(input.norm) - 1;
    const d = dynamic[n];
    if (n >= 0 && d) return pickDynamic(d);
    const o = n >= dynamic.length ? options[n - dynamic.length] : undefined;
    if (o) return pick(o);
  }
  const byValue = dynamic.find((d) => normalise(d.value) === input.norm);
  if (byValue) return pickDynamic(byValue);
  const byLabel = options.find((o) => Object.values(o.label).some((l) => l !== undefined && normalise(l) === input.norm));
  if (byLabel) return pick(byLabel);
  if (input.norm === '') return null;
  const c = await turn.classification();
  if (c.slots.affirmation) {
    const o = options.find((x) => x.affirmation === c.slots.affirmation);
    if (o) return pick(o);
  }
  if (c.intent !== 'other' && c.confidence >= INTENT_CONFIDENCE) {
    const o = options.find((x) => x.intent === c.intent);
    if (o) return pickSaying(o, c);
  }
  return null;
}

/** Pulls a slot value out of the input; null when it does not fit. A closed set of extractors. */
const extractors = {
  text: async (turn: Turn) => (turn.input.text.trim().length >= 2 ? turn.input.text.trim().slice(0, 2000) : null),
  order_ref: async (turn: Turn) => {
    const c = await turn.classification();
    const fromSlots = c.slots.orderNumber ?? c.slots.couponCode;
    if (fromSlots) return fromSlots;
    const m = /[A-Za-z0-9][A-Za-z0-9-]{5,39}/.exec(turn.input.text);
    return m && /\d/.test(m[0]) ? m[0].toUpperCase() : null;
  },
  // Only an order number or coupon code as the classifier recognises it: no guessing from other digits.
  order_number: async (turn: Turn) => {
    const c = await turn.classification();
    return c.slots.orderNumber ?? c.slots.couponCode;
  },
  // Intake keeps phone numbers (the agent must be able to call back); a masked one is accepted as it is.
  phone: async (turn: Turn) => {
    const masked = /\[phone \*{4}\d{4}\]/.exec(turn.input.text);
    if (masked) return masked[0];
    const found = /\+?\d[\d\s()-]{5,18}\d/.exec(turn.input.text);
    const digits = found ? found[0].replace(/[\s()-]/g, '') : '';
    return /^\+?\d{7,15}$/.test(digits) ? digits : null;
  },
  photos: async (turn: Turn) => (turn.input.attachments.length > 0 ? turn.input.attachments : null),
} satisfies Record<Extractor, (turn: Turn) => Promise<unknown>>;

async function capture(turn: Turn, slot: string, extract: Extractor): Promise<boolean> {
  const value = await extractors[extract](turn);
  if (value === null) return false;
  turn.state = { ...turn.state, slots: { ...turn.state.slots, [slot]: value } };
  return true;
}

/** The executors: one per step kind. */
const executors = {
  say: {
    async enter(turn, step) {
      turn.say(turn.text(step.text));
      return { kind: 'goto', step: step.next };
    },
  },
  ask: {
    async enter(turn, step) {
      turn.ask(turn.text(step.text), quickReplies(turn, step.options));
      return { kind: 'wait' };
    },
    async answer(turn, step) {
      const picked = await matchOption(turn, step.options, []);
      if (picked) return picked;
      if (await capture(turn, step.slot, step.extract)) {
        turn.state = { ...turn.state, retries: 0, misses: 0 };
        return { kind: 'goto', step: step.next };
      }
      const retries = turn.state.retries + 1;
      if (retries > step.retries) {
        turn.state = { ...turn.state, retries: 0 };
        return { kind: 'goto', step: step.onFail };
      }
      turn.state = { ...turn.state, retries };
      turn.lead(turn.text(step.invalid));
      turn.ask(turn.text(step.text), quickReplies(turn, step.options));
      return { kind: 'wait' };
    },
  },
  choose: {
    async enter(turn, step) {
      turn.ask(turn.text(step.text), quickReplies(turn, step.options, step.from));
      return { kind: 'wait' };
    },
    async answer(turn, step) {
      const picked = await matchOption(turn, step.options, step.from);
      if (picked) return picked;
      if (step.capture && (await capture(turn, step.capture.slot, step.capture.extract))) return { kind: 'goto', step: step.capture.next };
      return null;
    },
  },
  action: {
    async enter(turn, step) {
      const input: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(step.input)) input[k] = resolveValue(v, turn.state.slots);
      let result: { outcome: string; data: Record<string, unknown> };
      try {
        result = await turn.deps.actions.run(step.action, input);
      } catch (err) {
        if (!(err instanceof ProofRequired)) throw err;
        turn.requireProof(step.action, turn.state.flowId);
        return { kind: 'stop' };
      }
      turn.effects.push({ type: 'action', name: step.action, input, outcome: result.outcome });
      if (step.save) turn.state = { ...turn.state, slots: { ...turn.state.slots, [step.save]: { outcome: result.outcome, ...result.data } } };
      const next = step.on[result.outcome] ?? step.otherwise;
      if (!next) throw new AppError('internal', `flow has no branch for ${step.action} outcome ${result.outcome}`);
      return { kind: 'goto', step: next };
    },
  },
  branch: {
    async enter(turn, step) {
      for (const c of step.cases) {
        const value = readPath(turn.state.slots, c.if.slot);
        const present = value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0);
        const ok =
          (c.if.equals === undefined || value === c.if.equals) &&
          (c.if.in === undefined || (typeof value === 'string' || typeof value === 'number' ? c.if.in.includes(value) : false)) &&
          (c.if.present === undefined || c.if.present === present);
        if (ok) return { kind: 'goto', step: c.next };
      }
      return { kind: 'goto', step: step.else };
    },
  },
  handoff: {
    async enter(turn, step) {
      const phone = step.callbackSlot ? readPath(turn.state.slots, step.callbackSlot) : null;
      await turn.handoff(step.reason, step.text, step.priority, typeof phone === 'string' ? phone : null);
      return { kind: 'stop' };
    },
  },
  goto: {
    async enter(turn, step) {
      return { kind: 'goto', step: turn.enterFlow(step.flow, step.step) };
    },
  },
  end: {
    async enter(turn, step) {
      if (step.text) turn.finish(turn.text(step.text));
      turn.effects.push({ type: 'end' });
      turn.clearFlow();
      return { kind: 'stop' };
    },
  },
} satisfies { [K in StepKind]: Executor<K> };

function stepOf(turn: Turn, id: string): Step {
  const step = turn.flow?.steps[id];
  if (!step) throw new AppError('internal', `flow ${turn.state.flowId ?? '?'} has no step ${id}`);
  return step;
}

async function enter(turn: Turn, step: Step): Promise<Next> {
  switch (step.kind) {
    case 'say':
      return executors.say.enter(turn, step);
    case 'ask':
      return executors.ask.enter(turn, step);
    case 'choose':
      return executors.choose.enter(turn, step);
    case 'action':
      return executors.action.enter(turn, step);
    case 'branch':
      return executors.branch.enter(turn, step);
    case 'handoff':
      return executors.handoff.enter(turn, step);
    case 'goto':
      return executors.goto.enter(turn, step);
    case 'end':
      return executors.end.enter(turn, step);
  }
}

async function answer(turn: Turn, step: Step): Promise<Next | null> {
  switch (step.kind) {
    case 'ask':
      return executors.ask.answer(turn, step);
    case 'choose':
      return executors.choose.answer(turn, step);
    default:
      return null;
  }
}

/** Follows transitions until a step waits for the consumer or the flow stops. */
async function run(turn: Turn, first: Next): Promise<void> {
  let next = first;
  for (let i = 0; i < MAX_TRANSITIONS; i += 1) {
    if (next.kind === 'stop') return;
    if (next.kind === 'wait') return;
    turn.state = { ...turn.state, step: next.step };
    next = await enter(turn, stepOf(turn, next.step));
  }
  throw new AppError('internal', `flow ${turn.state.flowId ?? '?'} loops without waiting for the consumer`);
}

/** Shows the main menu; with `input`, first tries to read the input as a menu answer. */
async function mainMenu(turn: Turn, withInput: boolean): Promise<void> {
  const start = turn.enterFlow(turn.library.globals.mainFlow);
  turn.state = { ...turn.state, step: start };
  const step = stepOf(turn, start);
  if (withInput && (step.kind === 'choose' || step.kind === 'ask')) {
    const picked = await answer(turn, step);
    if (picked) return run(turn, picked);
  }
  return run(turn, { kind: 'goto', step: start });
}

function commandOf(turn: Turn): 'menu' | 'cancel' | Locale | null {
  const { commands, menuOption } = turn.library.globals;
  const norm = turn.input.norm;
  if (menuOption && turn.input.choice === menuOption.id && !waitingStepOffers(turn, menuOption.id)) return 'menu';
  if (norm === '' || turn.input.choice) return null;
  const has = (list: string[]) => list.some((c) => normalise(c) === norm);
  if (has(commands.menu)) return 'menu';
  if (has(commands.cancel)) return 'cancel';
  for (const locale of ['zh-Hans', 'zh-Hant', 'en'] as const) if (has(commands.locale[locale])) return locale;
  return null;
}

/** Whether the step the conversation waits at has an option of its own with this id. */
function waitingStepOffers(turn: Turn, id: string): boolean {
  const flow = pinnedFlow(turn.library, turn.state);
  const step = flow && turn.state.step ? flow.steps[turn.state.step] : undefined;
  return (step?.kind === 'choose' || step?.kind === 'ask') && step.options.some((o) => o.id === id);
}

/** Resolves the pinned flow of a conversation in progress; null when it is gone (the conversation starts over). */
function pinnedFlow(library: FlowLibrary, state: FlowState): Flow | null {
  if (!state.flowId || !state.flowVersion || !state.step) return null;
  const pinned = library.pinned(state.flowId, state.flowVersion);
  if (pinned?.flow.steps[state.step]) return pinned.flow;
  return null;
}

/**
 * Advances a conversation by one consumer message: global behaviours first (person, menu,
 * language, anger, human-owned silence), then the waiting step's answer, then steps until the
 * next question. Deterministic given its ports.
 */
export async function advance(library: FlowLibrary, state: FlowState, event: FlowEvent, deps: AdvanceDeps): Promise<AdvanceResult> {
  const input: Input = { text: event.text, norm: normalise(event.text), choice: event.choice, attachments: event.attachments };
  const turn = new Turn(library, { ...state, turns: state.turns + 1 }, event.conversation.locale, event.conversation.priority, input, deps, event.identity);
  await step(turn, event);
  if (event.greet) greet(turn);
  return {
    state: turn.state,
    outbound: turn.outbound,
    effects: turn.effects,
    locale: turn.locale,
    priority: turn.priority,
    status: turn.status,
    flowId: turn.state.flowId,
    flowVersion: turn.state.flowVersion,
  };
}

/**
 * Puts the greeting and the main menu's options (in words) before the turn's first message, unless
 * that message is the main menu itself (which greets and lists them already).
 */
function greet(turn: Turn): void {
  const first = turn.outbound[0];
  const main = turn.library.current(turn.library.globals.mainFlow)?.flow;
  const menu = main ? main.steps[main.start] : undefined;
  if (!first || !menu || (menu.kind !== 'choose' && menu.kind !== 'ask')) return;
  if (first.text.includes(pickText(menu.text, turn.locale))) return;
  const labels = menu.options.map((o) => pickText(o.label, turn.locale));
  const options = turn.locale === 'en' ? labels.join(', ') : labels.join('、');
  const greeting = render(pickText(turn.library.globals.messages.emailGreeting, turn.locale), { options }, turn.locale);
  const effect = turn.effects.find((e) => (e.type === 'say' || e.type === 'ask') && e.text === first.text);
  first.text = `${greeting}\n${first.text}`;
  if (effect && (effect.type === 'say' || effect.type === 'ask')) effect.text = first.text;
}

async function step(turn: Turn, event: FlowEvent): Promise<void> {
  const { globals } = turn.library;
  const command = commandOf(turn);

  // A person owns the conversation: stay quiet, except one acknowledgement and menu/cancel.
  if (event.conversation.status === 'waiting' || event.conversation.status === 'assigned') {
    const ticketNumber = turn.state.handoff?.ticketNumber ?? '';
    if (command === 'cancel' && event.conversation.status === 'waiting') {
      turn.state = { ...turn.state, handoff: null };
      turn.status = 'bot';
      turn.effects.push({ type: 'cancel_handoff' });
      turn.lead(turn.text(globals.messages.handoffCancelled, { ticketNumber }));
      return mainMenu(turn, false);
    }
    const due = event.conversation.firstResponseDueAt;
    const waitMinutes = due ? Math.max(1, Math.ceil((due.getTime() - turn.deps.now.getTime()) / 60_000)) : 60;
    const acknowledge = (): boolean => {
      if (event.conversation.status !== 'waiting' || !turn.state.handoff || turn.state.handoff.acknowledged) return false;
      turn.state = { ...turn.state, handoff: { ticketNumber, acknowledged: true } };
      return true;
    };
    if (event.conversation.status === 'waiting') {
      // Queued, no one has it yet: the guides and simple questions still work, and the case keeps
      // its place (status, priority and deadlines untouched; a handoff opens no second case).
      turn.queued = { ticketNumber, waitMinutes };
      const use = await selfServiceWhileQueued(turn, command);
      if (use === 'person') {
        acknowledge();
        return turn.stillQueued();
      }
      if (use === 'bot') {
        if (acknowledge()) turn.lead(turn.text(globals.messages.waitingAck, { ticketNumber, waitMinutes }));
        return botTurn(turn, event, command);
      }
    } else if (command === 'menu' || command === 'cancel') {
      turn.say(turn.text(globals.messages.humanOwnedMenu, { ticketNumber }));
      return;
    }
    // Anything else (the consumer telling the agent their story): one acknowledgement, then quiet.
    if (acknowledge()) turn.say(turn.text(globals.messages.waitingAck, { ticketNumber, waitMinutes }));
    return;
  }
  if (turn.state.handoff) turn.state = { ...turn.state, handoff: null };
  return botTurn(turn, event, command);
}

// While queued, these intents (said clearly) get the bot's self-service answer.
const QUEUED_SELF_SERVICE: readonly Classification['intent'][] = ['account_help', 'order_help', 'refund_status', 'refund'];
const QUEUED_CONFIDENCE = 0.7;

/**
 * Whether a message sent while the case waits for a person is for the bot (a button, the menu, a
 * guide in progress, a clear self-service question), a renewed request for a person, or neither.
 */
async function selfServiceWhileQueued(turn: Turn, command: ReturnType<typeof commandOf>): Promise<'bot' | 'person' | null> {
  const { globals } = turn.library;
  if (turn.input.choice === globals.humanOption.id) return 'person';
  if (command !== null) return command === 'cancel' ? null : 'bot';
  if (turn.input.choice) return 'bot';
  const flow = pinnedFlow(turn.library, turn.state);
  const waiting = flow && turn.state.step ? flow.steps[turn.state.step] : undefined;
  if (waiting && (waiting.kind === 'choose' || waiting.kind === 'ask')) return 'bot';
  if (turn.input.norm === '' || /^\d{1,2}$/.test(turn.input.norm)) return null;
  const c = await turn.classification();
  if (c.intent === 'human' && c.confidence >= INTENT_CONFIDENCE) return 'person';
  return QUEUED_SELF_SERVICE.includes(c.intent) && c.confidence >= QUEUED_CONFIDENCE ? 'bot' : null;
}

/** The bot's answer to a message: language, menu, person, anger, then the waiting step or the main menu. */
async function botTurn(turn: Turn, event: FlowEvent, command: ReturnType<typeof commandOf>): Promise<void> {
  const { globals } = turn.library;

  // Only a voice note (or other audio), no words: we cannot listen yet. Say so and ask the waiting
  // question again with its buttons (or show the main menu); it is no failed understanding.
  if (isAudioOnly(event)) {
    turn.lead(turn.text(globals.messages.voiceUnsupported));
    const pinned = pinnedFlow(turn.library, turn.state);
    const waitingStep = pinned && turn.state.step ? pinned.steps[turn.state.step] : undefined;
    if (pinned && turn.state.step && (waitingStep?.kind === 'choose' || waitingStep?.kind === 'ask')) {
      turn.flow = pinned;
      return run(turn, { kind: 'goto', step: turn.state.step });
    }
    turn.clearFlow();
    return mainMenu(turn, false);
  }

  // Language: detected from the first messages, switched on request.
  if (command === 'zh-Hans' || command === 'zh-Hant' || command === 'en') {
    turn.locale = command;
    turn.state = { ...turn.state, localeLocked: true };
    turn.effects.push({ type: 'locale', locale: command });
    const flow = pinnedFlow(turn.library, turn.state);
    if (!flow || !turn.state.step) return mainMenu(turn, false);
    turn.flow = flow;
    return run(turn, { kind: 'goto', step: turn.state.step });
  }
  if (!turn.state.localeLocked && turn.state.turns <= 3 && !turn.input.choice && !/\d/.test(turn.input.text)) {
    const detected = detectLocale(turn.input.text);
    // Latin letters alone say little ("asdf", a name): switch to English only for text that was understood.
    const trusted = detected !== 'en' || (await turn.classification()).confidence >= INTENT_CONFIDENCE;
    if (detected && detected !== turn.locale && trusted) {
      turn.locale = detected;
      turn.effects.push({ type: 'locale', locale: detected });
    }
  }

  if (command === 'menu' || command === 'cancel') {
    turn.clearFlow();
    return mainMenu(turn, false);
  }

  // "Talk to a person", by button or in words, at any moment.
  if (turn.input.choice === globals.humanOption.id) return turn.handoff('customer_request', globals.messages.handoffCustomerRequest, 0, null);
  const flow = pinnedFlow(turn.library, turn.state);
  turn.flow = flow;
  const waiting = flow && turn.state.step ? flow.steps[turn.state.step] : undefined;
  const humanIndex = waiting && (waiting.kind === 'choose' || waiting.kind === 'ask') ? optionCount(turn, waiting) + 1 : null;
  if (humanIndex !== null && !turn.input.choice && turn.input.norm === String(humanIndex)) {
    return turn.handoff('customer_request', globals.messages.handoffCustomerRequest, 0, null);
  }
  const isFreeText = !turn.input.choice && turn.input.norm !== '' && !/^\d{1,2}$/.test(turn.input.norm);
  if (isFreeText) {
    const c = await turn.classification();
    if (c.intent === 'human' && c.confidence >= INTENT_CONFIDENCE) return turn.handoff('customer_request', globals.messages.handoffCustomerRequest, 0, null);
    if (c.sentiment === 'angry') {
      turn.raisePriority(ANGER_PRIORITY);
      // An angry complaint goes straight to a person; inside the complaint flow it is collected first.
      if (c.intent === 'complaint' && turn.state.flowId !== 'complaint') return turn.handoff('anger', globals.messages.handoffAnger, ANGER_PRIORITY, null);
    }
  }

  // A flow waits for the sender to prove who they are (an account action refused them).
  const pending = turn.state.proofPending;
  if (pending) {
    if (isFreeText) {
      // A clear request for another topic goes there (account topics meet the same check again).
      const c = await turn.classification();
      if (c.intent !== 'other' && c.intent !== 'human' && c.confidence >= 0.7) {
        turn.clearFlow();
        return mainMenu(turn, true);
      }
    }
    if (turn.identity.level === 'proven') {
      // Proven now (e.g. the email answered through its reply address): the flow starts over.
      turn.clearFlow();
      return run(turn, { kind: 'goto', step: turn.enterFlow(pending.flowId) });
    }
    turn.requireProof('pending', pending.flowId);
    return;
  }

  if (!flow || !waiting) {
    // No flow runs (new conversation, finished flow, or its version is gone): the main menu reads the input.
    turn.clearFlow();
    return mainMenu(turn, true);
  }
  const picked = await answer(turn, waiting);
  if (picked) {
    turn.state = { ...turn.state, misses: 0 };
    return run(turn, picked);
  }
  // Not understood. A clear request for another topic restarts at the main menu with it.
  if (isFreeText) {
    const c = await turn.classification();
    if (c.intent !== 'other' && c.intent !== 'human' && c.confidence >= 0.7 && turn.state.flowId !== globals.mainFlow) {
      turn.clearFlow();
      return mainMenu(turn, true);
    }
  }
  const misses = turn.state.misses + 1;
  if (misses >= globals.maxMisses) {
    return turn.handoff('not_understood', globals.messages.handoffNotUnderstood, 0, null);
  }
  turn.state = { ...turn.state, misses };
  turn.lead(turn.text(globals.messages.notUnderstood));
  return run(turn, { kind: 'goto', step: turn.state.step ?? '' });
}

/** A message with audio attachments and nothing else: no text, no pressed button, no other file. */
function isAudioOnly(event: FlowEvent): boolean {
  if (event.choice !== null || normalise(event.text) !== '' || event.attachments.length === 0) return false;
  return event.attachments.every((a) => a.kind === 'audio');
}

function optionCount(turn: Turn, step: StepOf<'choose'> | StepOf<'ask'>): number {
  return step.options.length + (step.kind === 'choose' ? dynamicItems(turn, step.from).length : 0);
}
