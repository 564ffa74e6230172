import type { Config } from '../config.js';
import type { ChannelAdapter } from '../core/channel.js';
import type { ChannelKind, InboundMessageInput } from '../core/message.js';
import type { Clock } from '../core/ports.js';
import type { Database, Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import { createIntakeBatch } from './intake-batch.js';
import { IntakePressure } from './intake-pressure.js';
import { LIVE_CHANNEL, type LiveEvent, type LiveHub, liveEventPayload, liveEventSql } from './live-hub.js';
import { OutboxWorker } from './outbox-worker.js';
import { Processor, type ProcessorDeps } from './processor.js';
import { type ReceiveResult, receiveInbound } from './receive.js';
import type { Responder } from './responder.js';
import { createThreadMatcher } from './thread-matcher.js';

/** The message pipeline: receive → processor (the bot) → outbox (the channels). */
export interface Pipeline {
  readonly processor: Processor;
  readonly outbox: OutboxWorker;
  /** Stores an inbound message, then lets the bot answer it in the background. */
  receive(inbound: InboundMessageInput): Promise<ReceiveResult>;
  /** Starts delivery; `staleClaims`: this process is the database's only user (PGlite), so leases and claims left are stale. */
  start(staleClaims: boolean): Promise<void>;
  /** Waits until every stored message has been answered and every due reply delivered. */
  settle(): Promise<void>;
}

export function createPipeline(deps: {
  db: Db;
  clock: Clock;
  logger: Logger;
  hub: LiveHub;
  /** The channel adapters the outbox sends through. */
  adapters: Partial<Record<ChannelKind, ChannelAdapter>>;
  responder: Responder;
  config: Pick<Config, 'OUTBOX_MAX_ATTEMPTS' | 'OUTBOX_POLL_MS' | 'BOT_MAX_CONCURRENT_TURNS' | 'BOT_TURNS_UNDER_PRESSURE' | 'BOT_TURNS_IN_TRANSACTION'>;
  /** Which database: the default number of turns at once depends on it. */
  databaseKind: Database['kind'];
  /** Operators' metrics: a message a channel accepted, with when it was written. */
  onSent?: (channel: ChannelKind, writtenAt: Date | null) => void;
  /** Runs before a stored message's turn (fetching the files a channel only referenced). */
  prepareMessage?: ProcessorDeps['prepareMessage'];
}): Pipeline {
  const { db, clock, logger, hub, adapters } = deps;
  const outbox = new OutboxWorker({
    db,
    clock,
    logger,
    adapters,
    maxAttempts: deps.config.OUTBOX_MAX_ATTEMPTS,
    pollMs: deps.config.OUTBOX_POLL_MS,
    ...(deps.onSent ? { onSent: deps.onSent } : {}),
    // Live views re-read once the delivery is committed (web chat shows delivered replies only).
    onDelivered: (conversationId, channelIdentityId) => {
      hub
        .publish({ type: 'message', conversationId, ...(channelIdentityId ? { channelIdentityId } : {}) })
        .catch((err: unknown) => logger.warn({ err, conversationId }, 'live.publish_failed'));
    },
    deliveredSql: (delivered) =>
      liveEventSql(delivered.map((d) => ({ type: 'message' as const, conversationId: d.conversationId, ...(d.channelIdentityId ? { channelIdentityId: d.channelIdentityId } : {}) }))),
  });
  // Under a burst, storing and acknowledging messages comes before answering them (see IntakePressure).
  const pressure = new IntakePressure({ onEased: () => processor.admitTurns() });
  const processor = new Processor({
    db,
    clock,
    logger,
    responder: deps.responder,
    // PGlite runs every statement on this thread, one at a time: more turns at once only queue
    // there, ahead of intake's statements (quick bench: intake p99 x bare 1.2-2.8 with 8, 13-23 with 24).
    maxConcurrentTurns: deps.config.BOT_MAX_CONCURRENT_TURNS ?? (deps.databaseKind === 'pglite' ? 8 : 24),
    turnsUnderPressure: deps.config.BOT_TURNS_UNDER_PRESSURE,
    maxTurnsInTransaction: deps.config.BOT_TURNS_IN_TRANSACTION,
    intakeUnderPressure: () => pressure.under,
    onTurnDone: () => pressure.answered(),
    ...(deps.prepareMessage ? { prepareMessage: deps.prepareMessage } : {}),
    onOutbox: () => outbox.kick(),
    // Agents' console views follow conversations live (handoffs happen inside bot turns); the
    // announcement goes with the statement that commits the turn.
    onChange: (conversationId) => void hub.publish({ type: 'conversation', conversationId }),
    changeSql: (conversation, repliesDelivered) =>
      liveEventSql(turnEvents(conversation, repliesDelivered)) ?? liveEventSql({ type: 'conversation', conversationId: conversation.id }),
    changeNotify: {
      channel: LIVE_CHANNEL,
      payload: (conversation, repliesDelivered) =>
        liveEventPayload(turnEvents(conversation, repliesDelivered)) ?? liveEventPayload({ type: 'conversation', conversationId: conversation.id }) ?? null,
    },
    storedIsDelivered: (channel) => adapters[channel]?.capabilities.storedIsDelivered === true,
    onDeliveredOnCommit: (channel, count) => {
      for (let i = 0; i < count; i += 1) deps.onSent?.(channel, null);
    },
  });

  // Threading hints (email) join their conversation; numbered replies answer the last options where a channel has no buttons.
  const matchConversation = createThreadMatcher(clock);
  const numberedChoices = (channel: ChannelKind) => adapters[channel]?.capabilities.buttons === false;
  const batch = createIntakeBatch(db, clock, true);
  const receive = async (inbound: InboundMessageInput) => {
    // Live views hear of the message from the statement that stores it (see receiveInbound).
    pressure.received();
    const result = await receiveInbound({ db, clock, matchConversation, numberedChoices, announce: true, batch }, inbound);
    if (!result.duplicate) {
      void processor.schedule(result.conversationId);
      // A channel's own notices were written with the message: deliver them without waiting for a poll.
      if (inbound.notices?.length) outbox.kick();
    }
    return result;
  };

  return {
    processor,
    outbox,
    receive,
    async start(staleClaims) {
      // The directory lock makes this process PGlite's only user: leases and claims left by a
      // killed predecessor are stale, and waiting them out would delay its messages.
      if (staleClaims) {
        await processor.releaseAllLeases();
        await outbox.releaseAllClaims();
      }
      outbox.start();
    },
    async settle() {
      for (let i = 0; i < 20; i += 1) {
        await processor.idle();
        await outbox.drain();
        await processor.sweep();
        await processor.idle();
        if ((await outbox.runOnce()) === 0 && !outbox.busy) return;
      }
    },
  };
}

/** What a bot turn announces: the conversation changed, and a message when its replies are already delivered (web chat). */
function turnEvents(conversation: { id: string; channelIdentityId: string }, repliesDelivered: boolean): LiveEvent[] {
  return repliesDelivered
    ? [
        { type: 'conversation', conversationId: conversation.id },
        { type: 'message', conversationId: conversation.id, channelIdentityId: conversation.channelIdentityId },
      ]
    : [{ type: 'conversation', conversationId: conversation.id }];
}
