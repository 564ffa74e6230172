// Conversations the load plays: what a person types or taps at each turn, waiting for the bot's
// answer before the next message. Each runs in a web chat session signed as a bench customer.
import { performance } from 'node:perf_hooks';
import { distance } from 'fastest-levenshtein';
import { signCustomerId } from '../channels/webchat/index.js';
import { type ChatMessage, LiveStream, request } from './client.js';

export const IDENTITY_SECRET = 'bench-identity-secret';

export interface BenchCustomer {
  id: string;
  orderNumber: string;
}

/** One thing a person sends: typed text, or a tap on the button whose label best matches. */
export type Step = { text: string } | { press: string[]; orText?: string };

export type Scenario = 'refund' | 'complaint' | 'handoff' | 'greeting' | 'corpus';

export function scenarioSteps(scenario: Exclude<Scenario, 'corpus'>, customer: BenchCustomer): Step[] {
  switch (scenario) {
    case 'refund':
      return [
        { text: `你好，我想退款，订单号 ${customer.orderNumber}` },
        { press: ['未使用'] },
        { press: ['确认退款'], orText: '是' },
      ];
    case 'complaint':
      return [
        { text: '我要投诉' },
        { press: ['店家不让用券'] },
        { press: [] },
        { text: '到店以后店员说团购券今天不能用，要我加钱才给用，态度也很差' },
        { text: '昨天晚上七点左右' },
        { press: ['跳过'], orText: '没有照片' },
        { press: ['退款'] },
      ];
    case 'handoff':
      return [{ text: '在吗' }, { text: '转人工' }];
    case 'greeting':
      return [{ text: '你好' }, { text: '谢谢，没有别的问题了' }];
  }
}

/** Ten conversations in a cycle: four refunds, two complaints, two handoffs, two greetings. */
export const MIX: readonly Exclude<Scenario, 'corpus'>[] = ['refund', 'complaint', 'refund', 'handoff', 'greeting', 'refund', 'complaint', 'refund', 'handoff', 'greeting'];

export interface MessageRecord {
  scenario: Scenario;
  /** POST /api/webchat/messages → 2xx. */
  intakeMs: number;
  /** POST → the first bot message of the answer arrived on the consumer's live stream; null: none in time. */
  replyMs: number | null;
  status: number;
  /** The step wanted a button that the bot did not offer (it fell back to the first one or to text). */
  offScript: boolean;
}

export interface ConversationOptions {
  base: string;
  customer: BenchCustomer;
  scenario: Scenario;
  steps: Step[];
  locale?: 'zh-Hans' | 'zh-Hant' | 'en';
  /** Stop sending (after the current message) once performance.now() passes this. */
  deadline: number;
  replyTimeoutMs: number;
  record: (r: MessageRecord) => void;
  /** Called with the open session (token and stream) before the stream is closed. */
  onOpen?: (session: { token: string; stream: LiveStream }) => void | Promise<void>;
  /** Keep the live stream open and return it instead of closing it. */
  keepOpen?: boolean;
}

export interface ConversationResult {
  sessionMs: number;
  greeted: boolean;
  stream: LiveStream | null;
  token: string;
}

const isAnswer = (m: ChatMessage) => m.author !== 'customer';

export interface OpenChat {
  token: string;
  stream: LiveStream;
  sessionMs: number;
  greeted: boolean;
}

/** Opens the chat as a person does: a session signed as the customer, the live stream, the greeting. */
export async function openChat(base: string, customer: BenchCustomer, locale: 'zh-Hans' | 'zh-Hant' | 'en', timeoutMs: number): Promise<OpenChat> {
  const opened = await request('POST', `${base}/api/webchat/sessions`, {
    customerId: customer.id,
    signature: signCustomerId(customer.id, IDENTITY_SECRET),
    locale,
  }).catch((err: unknown) => {
    throw new Error(`POST /api/webchat/sessions failed: ${err instanceof Error ? err.message : String(err)}`);
  });
  if (opened.status !== 201) throw new Error(`POST /api/webchat/sessions answered ${opened.status}: ${JSON.stringify(opened.body)}`);
  const token = (opened.body as { token: string }).token;
  const stream = new LiveStream(base, token);
  await stream.opened.catch((err: unknown) => {
    throw new Error(`live stream failed to open: ${err instanceof Error ? err.message : String(err)}`);
  });
  // The chat opens with the greeting and the main menu.
  const greeting = await stream.waitFor(isAnswer, timeoutMs);
  return { token, stream, sessionMs: opened.ms, greeted: greeting !== null };
}

/** Plays one conversation like a person: open the chat (unless given one), send, read the answer, … */
export async function playConversation(o: ConversationOptions & { chat?: OpenChat }): Promise<ConversationResult> {
  const chat = o.chat ?? (await openChat(o.base, o.customer, o.locale ?? 'zh-Hans', o.replyTimeoutMs));
  const { token, stream } = chat;
  await o.onOpen?.({ token, stream });
  let n = 0;
  for (const step of o.steps) {
    if (performance.now() > o.deadline) break;
    const last = lastWithButtons(stream);
    let body: { clientMessageId: string; text?: string; choice?: string };
    let offScript = false;
    n += 1;
    if ('text' in step) body = { clientMessageId: `s${n}`, text: step.text };
    else {
      const options = last?.quickReplies ?? [];
      const chosen = pick(options, step.press);
      offScript = chosen === null || (step.press.length > 0 && !step.press.some((p) => chosen.label.includes(p)));
      if (chosen === null || (offScript && step.orText)) body = { clientMessageId: `s${n}`, text: step.orText ?? step.press[0] ?? '好的' };
      else body = { clientMessageId: `s${n}`, choice: chosen.id };
    }
    const sentAtWall = Date.now();
    const started = performance.now();
    const res = await request('POST', `${o.base}/api/webchat/messages`, body, { authorization: `Bearer ${token}` }).catch((err: unknown) => {
      throw new Error(`POST /api/webchat/messages failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    const intakeMs = performance.now() - started;
    if (res.status !== 202) {
      o.record({ scenario: o.scenario, intakeMs, replyMs: null, status: res.status, offScript });
      break;
    }
    // The answer: the first message after this one was sent (a turn's replies are written
    // together, so the previous turn's are all older than this moment).
    const fresh = (m: ChatMessage) => isAnswer(m) && Date.parse(m.createdAt) >= sentAtWall - 1;
    const answer = await stream.waitFor(fresh, o.replyTimeoutMs);
    o.record({ scenario: o.scenario, intakeMs, replyMs: answer ? answer.at - started : null, status: res.status, offScript });
    if (!answer) break;
    // A button press next needs the buttons, which may come in a later message of the same turn.
    const next = o.steps[n];
    if (next && 'press' in next) await stream.waitFor((m) => fresh(m) && (m.quickReplies?.length ?? 0) > 0, 2000);
  }
  if (!o.keepOpen) stream.close();
  return { sessionMs: chat.sessionMs, greeted: chat.greeted, stream: o.keepOpen ? stream : null, token };
}

function lastWithButtons(stream: LiveStream): ChatMessage | undefined {
  for (let i = stream.messages.length - 1; i >= 0; i -= 1) {
    const m = stream.messages[i]?.message;
    if (m && isAnswer(m) && (m.quickReplies?.length ?? 0) > 0) return m;
    if (m && m.author === 'customer') return undefined;
  }
  return undefined;
}

/** The button whose label contains a wanted word, else the closest label, else the first; null: none. */
export function pick(options: readonly { id: string; label: string }[], wanted: readonly string[]): { id: string; label: string } | null {
  if (options.length === 0) return null;
  for (const w of wanted) {
    const exact = options.find((o) => o.label === w) ?? options.find((o) => o.label.includes(w) || w.includes(o.label));
    if (exact) return exact;
  }
  if (wanted.length === 0) return options[0] ?? null;
  let best = options[0] ?? null;
  let bestDistance = Infinity;
  for (const o of options) {
    const d = Math.min(...wanted.map((w) => distance(o.label, w) / Math.max(o.label.length, w.length)));
    if (d < bestDistance) {
      bestDistance = d;
      best = o;
    }
  }
  return best;
}
