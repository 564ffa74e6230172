import { and, eq, isNull } from 'drizzle-orm';
import { type HandoffPolicy, type HandoffSummarizer, openHandoff, refineHandoffSummary } from '../actions/handoff.js';
import type { ActionRegistry } from '../actions/registry.js';
import { AppError } from '../core/errors.js';
import { type IdentityLevel, type ProofRemedy, ProofRequired } from '../core/identity.js';
import { Classification, type ClassifyContext, type IntentClassifier } from '../core/intent.js';
import { maskPersonalData, maskSecrets } from '../core/mask.js';
import { Locale } from '../core/message.js';
import type { Db, Tx } from '../db/client.js';
import { customers, timers } from '../db/schema.js';
import type { Conversation } from '../db/schema.js';
import type { Responder, TurnResult } from '../inbox/responder.js';
import type { Logger } from '../logger.js';
import { type ActionPort, type AdvanceDeps, advance, type FlowEvent, type HandoffPort, normalise } from '../engine/advance.js';
import type { FlowLibrary } from '../engine/flow-library.js';
import { parseState } from '../engine/state.js';
import { findFlowSnapshot } from './flow-snapshots.js';

export interface FlowResponderDeps {
  library: FlowLibrary;
  classifier: IntentClassifier;
  actions: ActionRegistry;
  logger: Logger;
  handoffPolicy?: HandoffPolicy;
  /** Rewrites a handoff's rule-based summary (an LLM) after the turn committed; null = keep it. */
  summarizer?: { db: Db; summarizer: HandoffSummarizer } | null;
  /** How an unproven sender proves who they are on a channel (the adapter's capabilities). */
  proofRemedy?: (channel: Conversation['channel']) => ProofRemedy | null;
}

function needsClassification(conversation: Conversation, text: string, choice: string | null): boolean {
  // A person owns it: the bot stays quiet. Queued (`waiting`), the consumer may still use the guides.
  if (conversation.status === 'assigned') return false;
  const norm = normalise(text);
  return choice === null && norm !== '' && !/^\d{1,2}$/.test(norm);
}

function actionPort(
  registry: ActionRegistry,
  tx: Tx,
  conversation: Conversation,
  now: Date,
  level: IdentityLevel,
  lastWrites: ((tx: Tx) => Promise<unknown>)[],
): ActionPort {
  return {
    async run(name, input) {
      const def = registry.get(name);
      if (!def) throw new AppError('internal', `flow calls unknown action ${name}`);
      // The one gate every flow passes: whatever a flow file says, an account action never runs
      // for a sender the channel has not proven (a forged email From must not move money).
      if (def.account && level !== 'proven') throw new ProofRequired(name);
      const parsed = def.input.safeParse(input);
      if (!parsed.success) throw new AppError('validation_failed', `flow passed invalid input to ${name}`, parsed.error.issues);
      const result = await def.run(
        {
          tx,
          now,
          clock: { now: () => now },
          customerId: conversation.customerId,
          conversationId: conversation.id,
          locale: conversation.locale,
          lastInTurn: (write) => lastWrites.push(write),
        },
        parsed.data,
      );
      return { outcome: result.outcome, data: result.data };
    },
  };
}

function handoffPort(
  tx: Tx,
  conversation: Conversation,
  now: Date,
  policy: HandoffPolicy | undefined,
  opened: string[],
): HandoffPort {
  return {
    async open(input) {
      let callbackPhone = input.callbackPhone;
      // "Call the number on my account": the agent gets the real number from the customer record.
      if (callbackPhone === 'account') {
        const [row] = await tx.select({ phone: customers.phone }).from(customers).where(eq(customers.id, conversation.customerId));
        callbackPhone = row?.phone ?? null;
      }
      const result = await openHandoff(
        tx,
        { conversationId: conversation.id, reason: input.reason, priority: input.priority, slots: input.slots, callbackPhone },
        now,
        policy,
      );
      opened.push(result.handoffId);
      return { ticketNumber: result.ticketNumber };
    },
  };
}

/**
 * The bot: runs the flow engine for each consumer message. Intent detection (which may call an
 * LLM) happens in `prepare`, before the turn's transaction opens; actions and handoffs run
 * inside it, so their writes commit together with the replies and the new state.
 */
export function createFlowResponder(deps: FlowResponderDeps): Responder {
  const classify = (text: string, conversation: Conversation): Promise<Classification> => {
    const context: ClassifyContext = { locale: conversation.locale, step: null, recentTurns: [] };
    return deps.classifier.classify(text, context);
  };
  return {
    async prepare({ conversation, message }) {
      if (!needsClassification(conversation, message.text, message.choice)) return null;
      return { text: message.text, classification: await classify(maskPersonalData(message.text), conversation) };
    },
    async respond({ tx, conversation, message, now, prepared }): Promise<TurnResult> {
      const { state: stored, migrated } = parseState(conversation.state);
      // A version loaded by another instance, or before a restart: fetch its snapshot once.
      if (stored.flowId && stored.flowVersion && !deps.library.pinned(stored.flowId, stored.flowVersion)) {
        const snapshot = await findFlowSnapshot(tx, stored.flowId, stored.flowVersion);
        if (snapshot) deps.library.addVersion(snapshot, stored.flowVersion);
      }
      if (migrated && Object.keys(conversation.state).length > 0) deps.logger.info({ conversationId: conversation.id }, 'flow_state.migrated');
      const text = maskSecrets(message.text);
      const ready = readPrepared(prepared, message.text);
      const classifier: IntentClassifier = { classify: async (t, context) => ready ?? deps.classifier.classify(t, context) };
      const event: FlowEvent = {
        text,
        choice: message.choice,
        attachments: message.attachments,
        conversation: {
          status: conversation.status,
          priority: conversation.priority,
          locale: Locale.catch('zh-Hans').parse(conversation.locale),
          firstResponseDueAt: conversation.firstResponseDueAt,
        },
      };
      // Email opens with no greeting (web chat shows it on opening, Telegram on /start): its first answer greets.
      if (conversation.channel === 'email' && stored.turns === 0) event.greet = true;
      const openedHandoffs: string[] = [];
      const lastWrites: ((tx: Tx) => Promise<unknown>)[] = [];
      const level = message.identityLevel ?? 'anonymous';
      event.identity = { level, remedy: deps.proofRemedy?.(conversation.channel) ?? null };
      const advanceDeps: AdvanceDeps = {
        classifier,
        actions: actionPort(deps.actions, tx, conversation, now, level, lastWrites),
        handoff: handoffPort(tx, conversation, now, deps.handoffPolicy, openedHandoffs),
        now,
      };
      const result = await advance(deps.library, stored, event, advanceDeps);
      for (const effect of result.effects) {
        if (effect.type === 'handoff') deps.logger.info({ conversationId: conversation.id, reason: effect.reason, ticketNumber: effect.ticketNumber }, 'handoff.opened');
        if (effect.type === 'proof_required') deps.logger.info({ conversationId: conversation.id, action: effect.action, level, repeated: effect.repeated }, 'identity.proof_required');
        if (effect.type === 'action') deps.logger.debug({ conversationId: conversation.id, action: effect.name, outcome: effect.outcome }, 'action.ran');
        if (effect.type === 'cancel_handoff') {
          // The consumer no longer waits for a person: the case's SLA timers must not fire.
          await tx
            .update(timers)
            .set({ cancelledAt: now })
            .where(and(eq(timers.subjectId, conversation.id), isNull(timers.firedAt), isNull(timers.cancelledAt)));
          deps.logger.info({ conversationId: conversation.id }, 'handoff.cancelled');
        }
      }
      return {
        replies: result.outbound.map((o) => ({ text: o.text, quickReplies: o.quickReplies })),
        patch: {
          state: result.state,
          flowId: result.flowId,
          flowVersion: result.flowVersion,
          locale: result.locale,
          priority: result.priority,
          ...(result.status ? { status: result.status } : {}),
        },
        lastWrites,
        // The LLM summary is slow: it replaces the rule-based one after the handoff committed.
        afterCommit: deps.summarizer
          ? openedHandoffs.map((handoffId) => async () => {
              const { db, summarizer } = deps.summarizer ?? {};
              if (db && summarizer) await refineHandoffSummary(db, handoffId, summarizer);
            })
          : [],
      };
    },
  };
}

/** The classification `prepare` made for this very text, if any. */
function readPrepared(prepared: unknown, text: string): Classification | null {
  if (prepared === null || typeof prepared !== 'object' || Reflect.get(prepared, 'text') !== text) return null;
  const parsed = Classification.safeParse(Reflect.get(prepared, 'classification'));
  return parsed.success ? parsed.data : null;
}
