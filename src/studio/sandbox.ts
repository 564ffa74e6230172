import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, isNull, ne } from 'drizzle-orm';
import { createDbRefundGateway } from '../actions/db-refund-gateway.js';
import { createActionRegistry, type ActionDeps } from '../actions/index.js';
import type { ActionRegistry } from '../actions/registry.js';
import type { IntentClassifier } from '../core/intent.js';
import { detectLocale } from '../core/locale.js';
import type { Locale } from '../core/message.js';
import type { Db, Tx } from '../db/client.js';
import { channelIdentities, complaints, conversations, customers, handoffs, messages, orders, refunds, timers } from '../db/schema.js';
import type { Conversation } from '../db/schema.js';
import type { FlowLibrary } from '../engine/flow-library.js';
import { createFlowResponder } from '../bot/flow-responder.js';
import type { Responder } from '../inbox/responder.js';
import type { Logger } from '../logger.js';
import { z } from 'zod';
import { pressed, type Transcript } from './transcript.js';

const StateView = z.object({ flowId: z.string().nullable().optional(), step: z.string().nullable().optional() });

/** The flows and the intent rules a sandbox runs: a draft's, or the published ones. */
export interface Engine {
  library: FlowLibrary;
  classifier: IntentClassifier;
}

/**
 * Dry-run actions: the real actions read real data (orders, coupons, deal terms), but the refund
 * gateway only accepts without paying anything, and every write goes into a transaction that is
 * rolled back. Nothing reaches real conversations, refunds or the platform's API.
 */
export function dryRunActions(deps: ActionDeps): ActionRegistry {
  return createActionRegistry({ ...deps, refunds: createDbRefundGateway() });
}

class Rollback extends Error {}

/**
 * Runs `fn` in a transaction that is always rolled back. Short by design: on embedded PGlite a
 * transaction holds the only connection, so a sandbox never stays open across user think time —
 * the simulator replays its turns each time instead.
 */
export async function inSandbox<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const out: { value: T }[] = [];
  try {
    await db.transaction(async (tx) => {
      out.push({ value: await fn(tx) });
      throw new Rollback('sandbox');
    });
  } catch (err) {
    if (!(err instanceof Rollback)) throw err;
  }
  const first = out[0];
  if (!first) throw new Error('sandbox produced nothing');
  return first.value;
}

export interface SandboxInput {
  text: string;
  choice: string | null;
}

export interface SandboxReply {
  text: string;
  quickReplies: { id: string; label: string }[];
}

/** One conversation inside a sandbox transaction, answered by the flow engine like the real pipeline. */
export class SandboxConversation {
  private constructor(
    private readonly tx: Tx,
    private readonly responder: Responder,
    public conversation: Conversation,
  ) {}

  static async open(tx: Tx, engine: Engine, actions: ActionRegistry, logger: Logger, customerId: string, locale: Locale): Promise<SandboxConversation> {
    const [identity] = await tx
      .insert(channelIdentities)
      .values({ customerId, channel: 'webchat', externalId: `studio-sandbox:${randomUUID()}`, displayName: null })
      .returning();
    if (!identity) throw new Error('sandbox identity not created');
    const [conversation] = await tx
      .insert(conversations)
      .values({ customerId, channelIdentityId: identity.id, channel: 'webchat', locale, replyToken: `sandbox-${randomUUID()}`, identityLevel: 'proven' })
      .returning();
    if (!conversation) throw new Error('sandbox conversation not created');
    const responder = createFlowResponder({ library: engine.library, classifier: engine.classifier, actions, logger });
    return new SandboxConversation(tx, responder, conversation);
  }

  /** One consumer message and the bot's replies to it. */
  async send(input: SandboxInput, now: Date): Promise<SandboxReply[]> {
    const [message] = await this.tx
      .insert(messages)
      .values({
        conversationId: this.conversation.id,
        direction: 'in',
        author: 'customer',
        channel: 'webchat',
        text: input.text,
        choice: input.choice,
        deliveryStatus: 'received',
        processedAt: now,
        // The simulator acts as the chosen demo customer, signed in like a signed web chat session:
        // account actions (orders, refunds, complaints) need a proven sender.
        identityLevel: 'proven',
        createdAt: now,
      })
      .returning();
    if (!message) throw new Error('sandbox message not stored');
    const result = await this.responder.respond({ tx: this.tx, conversation: this.conversation, message, now, prepared: null });
    const [after] = await this.tx
      .update(conversations)
      .set({ ...(result.patch ?? {}), updatedAt: now })
      .where(eq(conversations.id, this.conversation.id))
      .returning();
    if (after) this.conversation = after;
    return result.replies.map((r) => ({ text: r.text, quickReplies: r.quickReplies ?? [] }));
  }

  /** What the turns did that a real conversation would have written: handoffs, refunds, complaints. */
  async effects(): Promise<{ handoff: string | null; ticketNumber: string | null; refunds: number; complaints: number; openTimers: number }> {
    const id = this.conversation.id;
    const [h] = await this.tx.select().from(handoffs).where(eq(handoffs.conversationId, id)).orderBy(desc(handoffs.createdAt)).limit(1);
    return {
      handoff: h?.reason ?? null,
      ticketNumber: h?.ticketNumber ?? null,
      refunds: await this.tx.$count(refunds, eq(refunds.conversationId, id)),
      complaints: await this.tx.$count(complaints, eq(complaints.conversationId, id)),
      openTimers: await this.tx.$count(timers, and(eq(timers.subjectId, id), isNull(timers.firedAt), isNull(timers.cancelledAt))),
    };
  }

  async latestHandoff() {
    const [h] = await this.tx.select().from(handoffs).where(eq(handoffs.conversationId, this.conversation.id)).orderBy(desc(handoffs.createdAt)).limit(1);
    return h ?? null;
  }
}

/** The outcome of playing one golden transcript. */
export interface TranscriptResult {
  documentId: string;
  ok: boolean;
  /** The first difference, for people: which turn, what was expected, what the bot did. */
  difference: { turn: number; expected: string; actual: string } | null;
}

export const DEMO_TRANSCRIPT_CUSTOMERS = {
  senior: 'c0ffee00-5e10-4a11-8b00-000000000001',
  emily: 'c0ffee00-5e10-4a11-8b00-000000000002',
} as const;

/** Plays a golden transcript against the demo data in a sandbox; stops at the first difference. */
export async function playTranscript(
  db: Db,
  engine: Engine,
  actions: ActionRegistry,
  logger: Logger,
  documentId: string,
  transcript: Transcript,
  now: Date,
): Promise<TranscriptResult> {
  return inSandbox(db, async (tx) => {
    const customerId = DEMO_TRANSCRIPT_CUSTOMERS[transcript.customer];
    const [customer] = await tx.select().from(customers).where(eq(customers.id, customerId));
    if (!customer) return { documentId, ok: false, difference: { turn: 0, expected: `demo customer ${transcript.customer}`, actual: 'not in this database (run kefu seed)' } };
    const [foreign] = await tx.select({ orderNumber: orders.orderNumber }).from(orders).where(ne(orders.customerId, customerId)).orderBy(asc(orders.orderNumber)).limit(1);
    const [own] = await tx
      .select({ orderNumber: orders.orderNumber })
      .from(orders)
      .where(eq(orders.customerId, customerId))
      .orderBy(desc(orders.createdAt), asc(orders.orderNumber))
      .limit(1);
    const first = transcript.turns[0]?.send ?? '';
    const locale = detectLocale(first) ?? customer.locale;
    const sandbox = await SandboxConversation.open(tx, engine, actions, logger, customerId, locale);
    let last: SandboxReply | undefined;
    const diff = (turn: number, expected: string, actual: string): TranscriptResult => ({ documentId, ok: false, difference: { turn, expected, actual } });
    for (const [i, turn] of transcript.turns.entries()) {
      const n = i + 1;
      let text = (turn.send ?? '').replace('{{foreignOrder}}', foreign?.orderNumber ?? '').replace('{{ownOrder}}', own?.orderNumber ?? '');
      let choice: string | null = null;
      if (turn.press !== undefined) {
        const q = pressed(last?.quickReplies ?? [], turn.press);
        if (!q) return diff(n, `a quick reply ${turn.press}`, `buttons: ${(last?.quickReplies ?? []).map((r) => r.label).join(' | ') || '(none)'}`);
        choice = q.id;
        text = q.label;
      }
      const replies = await sandbox.send({ text, choice }, now);
      if (replies.length !== turn.bot.length) {
        return diff(n, `${turn.bot.length} bot message(s): ${turn.bot.join(' | ')}`, `${replies.length}: ${replies.map((r) => r.text).join(' | ')}`);
      }
      for (const [j, expected] of turn.bot.entries()) {
        const actual = replies[j]?.text ?? '';
        if (!actual.includes(expected)) return diff(n, `bot message ${j + 1} contains “${expected}”`, actual);
      }
      last = replies.at(-1);
      for (const b of turn.buttons ?? []) {
        if (!pressed(last?.quickReplies ?? [], b)) return diff(n, `button ${b}`, `buttons: ${(last?.quickReplies ?? []).map((r) => `${r.id} “${r.label}”`).join(', ')}`);
      }
      const c = sandbox.conversation;
      const state = StateView.parse(c.state);
      const expect = turn.state;
      if (expect?.flowId !== undefined && (state.flowId ?? null) !== expect.flowId) return diff(n, `flow ${expect.flowId}`, `flow ${state.flowId ?? 'none'}`);
      if (expect?.step !== undefined && (state.step ?? null) !== expect.step) return diff(n, `step ${expect.step}`, `step ${state.step ?? 'none'}`);
      if (expect?.status !== undefined && c.status !== expect.status) return diff(n, `status ${expect.status}`, `status ${c.status}`);
      if (expect?.locale !== undefined && c.locale !== expect.locale) return diff(n, `locale ${expect.locale}`, `locale ${c.locale}`);
      if (expect?.priorityAtLeast !== undefined && c.priority < expect.priorityAtLeast) return diff(n, `priority ≥ ${expect.priorityAtLeast}`, `priority ${c.priority}`);
      if (turn.handoff !== undefined || turn.refunds !== undefined || turn.complaints !== undefined || turn.openTimers !== undefined || turn.callbackPhone !== undefined) {
        const fx = await sandbox.effects();
        if (turn.handoff !== undefined && (fx.handoff ?? 'none') !== turn.handoff) return diff(n, `handoff ${turn.handoff}`, `handoff ${fx.handoff ?? 'none'}`);
        if (turn.refunds !== undefined && fx.refunds !== turn.refunds) return diff(n, `${turn.refunds} refund(s)`, `${fx.refunds}`);
        if (turn.complaints !== undefined && fx.complaints !== turn.complaints) return diff(n, `${turn.complaints} complaint(s)`, `${fx.complaints}`);
        if (turn.openTimers !== undefined && fx.openTimers !== turn.openTimers) return diff(n, `${turn.openTimers} armed SLA timer(s)`, `${fx.openTimers}`);
        if (turn.callbackPhone !== undefined) {
          const h = await sandbox.latestHandoff();
          if (h?.callbackPhone !== turn.callbackPhone) return diff(n, `callback phone ${turn.callbackPhone}`, `${h?.callbackPhone ?? 'none'}`);
        }
      }
    }
    return { documentId, ok: true, difference: null };
  });
}
