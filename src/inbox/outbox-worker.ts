import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { ChannelAdapter, SendResult } from '../core/channel.js';
import type { ChannelKind, Locale, OutboundMessage, QuickReply } from '../core/message.js';
import type { Clock } from '../core/ports.js';
import { type Db, rowsOf } from '../db/client.js';
import { channelIdentities, conversations, messages, outbox } from '../db/schema.js';
import type { Logger } from '../logger.js';

export interface OutboxWorkerDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  adapters: Partial<Record<ChannelKind, ChannelAdapter>>;
  maxAttempts: number;
  pollMs: number;
  /**
   * Called after a message's delivery state was committed (for live views: an outgoing message
   * becomes visible only now, so a notification sent from inside `send` can arrive too early).
   */
  onDelivered?: (conversationId: string, channelIdentityId: string | null) => void;
  batchSize?: number;
  /** How long a claimed row stays invisible to other workers. */
  claimMs?: number;
}

interface ClaimedRow {
  id: number;
  message_id: string;
  conversation_id: string;
  channel: ChannelKind;
  attempts: number;
}

/** Backoff before retry n (1-based): 2 s, 4 s, 8 s … capped at 10 minutes, with ±20 % jitter. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(2000 * 2 ** (attempt - 1), 600_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Delivers outbox rows through their channel adapter. Rows are claimed with FOR UPDATE SKIP LOCKED
 * and a short lease, so any number of instances can run this; only the oldest pending row of a
 * conversation is claimed, so one conversation's messages go out in order.
 */
export class OutboxWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private kicked = false;
  private stopped = true;

  constructor(private readonly deps: OutboxWorkerDeps) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Delivers what is due now instead of waiting for the next poll. */
  kick(): void {
    if (this.running) {
      this.kicked = true;
      return;
    }
    if (!this.stopped) this.schedule(0);
  }

  /**
   * Releases every claim. Only for a database no other process can use (embedded PGlite behind its
   * directory lock): rows claimed by a killed process would otherwise wait out the claim.
   */
  async releaseAllClaims(): Promise<void> {
    await this.deps.db
      .update(outbox)
      .set({ lockedUntil: null })
      .where(and(eq(outbox.status, 'pending'), isNotNull(outbox.lockedUntil)));
  }

  /** Runs delivery passes until nothing is due (tests and `kefu chat`). */
  async drain(): Promise<void> {
    await this.running;
    while ((await this.runOnce()) > 0) {
      // keep going while rows were due
    }
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.loop().finally(() => {
        this.running = null;
        if (!this.stopped) this.schedule(this.kicked ? 0 : this.deps.pollMs);
        this.kicked = false;
      });
    }, ms);
    this.timer.unref?.();
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopped && (await this.runOnce()) > 0) {
        // drain what is due
      }
    } catch (err) {
      this.deps.logger.error({ err }, 'outbox.poll_failed');
    }
  }

  /** One pass: claim due rows, send them, record results. Returns how many rows it handled. */
  async runOnce(): Promise<number> {
    const claimed = await this.claim();
    // Different conversations go out in parallel; each claim holds at most one row per conversation.
    await Promise.all(claimed.map((row) => this.deliver(row)));
    return claimed.length;
  }

  private async claim(): Promise<ClaimedRow[]> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const until = new Date(now.getTime() + (this.deps.claimMs ?? 60_000));
    const limit = this.deps.batchSize ?? 20;
    const result = await db.execute(sql`
      update ${outbox} set locked_until = ${until.toISOString()}::timestamptz, attempts = ${outbox.attempts} + 1
      where ${outbox.id} in (
        select o.id from ${outbox} o
        where o.status = 'pending' and o.next_attempt_at <= ${now.toISOString()}::timestamptz
          and (o.locked_until is null or o.locked_until < ${now.toISOString()}::timestamptz)
          and not exists (
            select 1 from ${outbox} earlier
            where earlier.conversation_id = o.conversation_id and earlier.status = 'pending' and earlier.id < o.id
          )
        order by o.id
        limit ${limit}
        for update skip locked
      )
      returning ${outbox.id} as id, ${outbox.messageId} as message_id, ${outbox.conversationId} as conversation_id,
        ${outbox.channel} as channel, ${outbox.attempts} as attempts`);
    return rowsOf<ClaimedRow>(result).map((r) => ({ ...r, id: Number(r.id), attempts: Number(r.attempts) }));
  }

  private async deliver(row: ClaimedRow): Promise<void> {
    const { db, clock, logger } = this.deps;
    const log = logger.child({ conversationId: row.conversation_id, messageId: row.message_id, outboxId: row.id });
    const adapter = this.deps.adapters[row.channel];
    let result: SendResult;
    let identityId: string | null = null;
    try {
      const loaded = await this.load(row);
      identityId = loaded?.identityId ?? null;
      if (!loaded) result = { ok: false, retryable: false, error: 'message or conversation not found' };
      else if (loaded.unreachable) result = { ok: false, retryable: false, error: 'recipient unreachable on this channel' };
      else if (!adapter) result = { ok: false, retryable: true, error: `channel ${row.channel} is not enabled` };
      else result = await adapter.send(loaded.message);
    } catch (err) {
      // An adapter that throws could not reach its remote: treat as retryable.
      result = { ok: false, retryable: true, error: err instanceof Error ? err.message : String(err) };
    }
    const now = clock.now();
    if (result.ok) {
      const sent = result;
      await db.transaction(async (tx) => {
        await tx.update(outbox).set({ status: 'sent', sentAt: now, lockedUntil: null, lastError: null }).where(eq(outbox.id, row.id));
        await tx
          .update(messages)
          .set({ deliveryStatus: 'sent', deliveryError: null, ...(sent.externalId ? { externalId: sent.externalId } : {}) })
          .where(eq(messages.id, row.message_id));
        if (sent.thread) {
          await tx
            .update(conversations)
            .set({ thread: sql`${conversations.thread} || ${JSON.stringify(sent.thread)}::jsonb` })
            .where(eq(conversations.id, row.conversation_id));
        }
      });
      log.info({ channel: row.channel, attempts: row.attempts }, 'outbox.sent');
    } else {
      const giveUp = !result.retryable || row.attempts >= this.deps.maxAttempts;
      const delay = Math.max(result.retryAfterMs ?? 0, backoffMs(row.attempts));
      await db.transaction(async (tx) => {
        await tx
          .update(outbox)
          .set(
            giveUp
              ? { status: 'failed', lockedUntil: null, lastError: result.error }
              : { nextAttemptAt: new Date(now.getTime() + delay), lockedUntil: null, lastError: result.error },
          )
          .where(eq(outbox.id, row.id));
        await tx
          .update(messages)
          .set({ deliveryStatus: giveUp ? 'failed' : 'pending', deliveryError: result.error })
          .where(eq(messages.id, row.message_id));
        if (result.unreachable && identityId) {
          await tx
            .update(channelIdentities)
            .set({ unreachable: true, unreachableReason: result.error })
            .where(eq(channelIdentities.id, identityId));
        }
      });
      log.warn({ channel: row.channel, attempts: row.attempts, error: result.error, giveUp }, giveUp ? 'outbox.failed' : 'outbox.retry');
    }
    this.deps.onDelivered?.(row.conversation_id, identityId);
  }

  private async load(row: ClaimedRow): Promise<{ message: OutboundMessage; unreachable: boolean; identityId: string } | null> {
    const [found] = await this.deps.db
      .select({ message: messages, conversation: conversations, identity: channelIdentities })
      .from(messages)
      .innerJoin(conversations, eq(conversations.id, messages.conversationId))
      .innerJoin(channelIdentities, eq(channelIdentities.id, conversations.channelIdentityId))
      .where(eq(messages.id, row.message_id))
      .limit(1);
    if (!found) return null;
    const { message, conversation, identity } = found;
    return {
      unreachable: identity.unreachable,
      identityId: identity.id,
      message: {
        messageId: message.id,
        conversationId: conversation.id,
        channel: conversation.channel,
        recipient: { channelIdentityId: identity.id, externalId: identity.externalId, displayName: identity.displayName },
        author: message.author,
        text: message.text,
        quickReplies: (message.quickReplies ?? []) satisfies QuickReply[],
        locale: conversation.locale satisfies Locale,
        thread: { ...conversation.thread, replyToken: conversation.replyToken },
        createdAt: message.createdAt,
      },
    };
  }
}

