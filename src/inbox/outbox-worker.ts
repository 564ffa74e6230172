import { redactSecrets } from '../core/redact.js';
import { and, eq, inArray, isNotNull, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { ChannelAdapter, SendResult } from '../core/channel.js';
import { Author, ChannelKind, Locale, type OutboundMessage } from '../core/message.js';
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
  /**
   * The same announcement as an SQL expression for a batch, sent with the statement that records
   * the batch as sent (no round trip of its own); `onDelivered` then serves the other outcomes.
   */
  deliveredSql?: (delivered: { conversationId: string; channelIdentityId: string | null }[]) => SQL<unknown> | undefined;
  /** Called for each message a channel accepted, with when it was written (operators' metrics). */
  onSent?: (channel: ChannelKind, writtenAt: Date | null) => void;
  batchSize?: number;
  /** How long a claimed row stays invisible to other workers. */
  claimMs?: number;
}

/** A claimed row together with what sending it needs (read in the claiming statement). */
const ClaimedRow = z.object({
  id: z.coerce.number(),
  message_id: z.string(),
  conversation_id: z.string(),
  channel: ChannelKind,
  attempts: z.coerce.number(),
  // Null when the message, conversation or identity is gone.
  author: Author.nullable(),
  text: z.string().nullable(),
  quick_replies: z.array(z.object({ id: z.string(), label: z.string() })).nullable(),
  created_at: z.coerce.date().nullable(),
  conversation_channel: ChannelKind.nullable(),
  locale: Locale.nullable(),
  thread: z.record(z.string(), z.unknown()).nullable(),
  reply_token: z.string().nullable(),
  identity_id: z.string().nullable(),
  external_id: z.string().nullable(),
  display_name: z.string().nullable(),
  unreachable: z.boolean().nullable(),
});
type ClaimedRow = z.infer<typeof ClaimedRow>;

/** What one send attempt came to, before it is recorded. */
interface Attempt {
  row: ClaimedRow;
  result: SendResult;
  identityId: string | null;
}

/** Backoff before retry n (1-based): 2 s, 4 s, 8 s … capped at 10 minutes, with ±20 % jitter. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(2000 * 2 ** (attempt - 1), 600_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * How long a claim on outbox rows lasts; renewed every third of it while they are being sent, so
 * rows claimed by a process that died are free again within seconds.
 */
export const OUTBOX_CLAIM_MS = 6000;

/** Rows of one conversation claimed in one pass (its head and those queued behind it). */
const PER_CONVERSATION = 10;

/**
 * Delivers outbox rows through their channel adapter. Rows are claimed with FOR UPDATE SKIP LOCKED
 * and a short lease, so any number of instances can run this; a conversation is claimed through
 * its oldest pending row (with the rows behind it), so its messages go out in order.
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
    for (;;) {
      await this.running;
      if ((await this.runOnce()) > 0) continue;
      // Rows a background pass claimed first were invisible to ours: wait for that pass too.
      if (!this.running) return;
    }
  }

  /** Whether a background delivery pass is running now (its rows are claimed, maybe not yet sent). */
  get busy(): boolean {
    return this.running !== null;
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
    if (claimed.length === 0) return 0;
    // The claim is short and renewed while sends are under way (see OUTBOX_CLAIM_MS).
    const claimMs = this.deps.claimMs ?? OUTBOX_CLAIM_MS;
    const ids = claimed.map((r) => r.id);
    const renew = setInterval(() => {
      this.deps.db
        .update(outbox)
        .set({ lockedUntil: new Date(this.deps.clock.now().getTime() + claimMs) })
        .where(and(inArray(outbox.id, ids), eq(outbox.status, 'pending'), isNotNull(outbox.lockedUntil)))
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'outbox.claim_renew_failed'));
    }, Math.max(100, Math.floor(claimMs / 3)));
    // Different conversations go out in parallel; one conversation's rows one after another, in
    // order, stopping at the first that fails (the rest are released for a later pass).
    const byConversation = new Map<string, ClaimedRow[]>();
    for (const row of claimed) {
      const rows = byConversation.get(row.conversation_id) ?? [];
      rows.push(row);
      byConversation.set(row.conversation_id, rows);
    }
    const unsent: number[] = [];
    const attempts = await Promise.all(
      [...byConversation.values()].map(async (rows) => {
        const done: Attempt[] = [];
        for (const [i, row] of rows.entries()) {
          const attempt = await this.send(row);
          done.push(attempt);
          if (!attempt.result.ok) {
            unsent.push(...rows.slice(i + 1).map((r) => r.id));
            break;
          }
        }
        return done;
      }),
    )
      .then((lists) => lists.flat())
      .finally(() => clearInterval(renew));
    if (unsent.length > 0) await this.release(unsent);
    // Plain successes (nothing to store but "sent") are recorded together in one statement.
    const plain = attempts.filter((a) => a.result.ok && !a.result.externalId && !a.result.thread);
    const announced = await this.markSent(plain);
    await Promise.all(attempts.filter((a) => !plain.includes(a)).map((a) => this.record(a)));
    for (const a of attempts) if (!(announced && plain.includes(a))) this.deps.onDelivered?.(a.row.conversation_id, a.identityId);
    for (const { row, result } of attempts) if (result.ok) this.deps.onSent?.(row.channel, row.created_at);
    return claimed.length;
  }

  private async claim(): Promise<ClaimedRow[]> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const until = new Date(now.getTime() + (this.deps.claimMs ?? OUTBOX_CLAIM_MS));
    const limit = this.deps.batchSize ?? 20;
    // One round trip claims the rows and reads what sending them needs.
    const result = await db.execute(sql`
      with heads as (
        -- The oldest pending row of each conversation, when it is due and nobody holds it.
        select o.id, o.conversation_id from ${outbox} o
        where o.status = 'pending' and o.next_attempt_at <= ${now.toISOString()}::timestamptz
          and (o.locked_until is null or o.locked_until < ${now.toISOString()}::timestamptz)
          and not exists (
            select 1 from ${outbox} earlier
            where earlier.conversation_id = o.conversation_id and earlier.status = 'pending' and earlier.id < o.id
          )
        order by o.id
        limit ${limit}
        for update skip locked
      ),
      picked as (
        -- With each head, the rows queued behind it (another worker can take only a head, so
        -- holding the head holds its conversation): one pass sends a whole turn's replies.
        select id from heads
        union all
        select f.id from heads h cross join lateral (
          select f.id from ${outbox} f
          where f.conversation_id = h.conversation_id and f.status = 'pending' and f.id > h.id
            and f.next_attempt_at <= ${now.toISOString()}::timestamptz
            and (f.locked_until is null or f.locked_until < ${now.toISOString()}::timestamptz)
          order by f.id
          limit ${PER_CONVERSATION - 1}
        ) f
      ),
      claimed as (
        update ${outbox} set locked_until = ${until.toISOString()}::timestamptz, attempts = ${outbox.attempts} + 1
        where ${outbox.id} in (select id from picked)
        returning ${outbox.id} as id, ${outbox.messageId} as message_id, ${outbox.conversationId} as conversation_id,
          ${outbox.channel} as channel, ${outbox.attempts} as attempts
      )
      select claimed.*, m.author, m.text, m.quick_replies, m.created_at,
        c.channel as conversation_channel, c.locale, c.thread, c.reply_token,
        i.id as identity_id, i.external_id, i.display_name, i.unreachable
      from claimed
      left join ${messages} m on m.id = claimed.message_id
      left join ${conversations} c on c.id = m.conversation_id
      left join ${channelIdentities} i on i.id = c.channel_identity_id
      order by claimed.id`);
    return rowsOf<unknown>(result).map((r) => ClaimedRow.parse(r));
  }

  /** Gives claimed rows back unsent (their attempt not counted), for the next pass. */
  private async release(ids: number[]): Promise<void> {
    await this.deps.db
      .update(outbox)
      .set({ lockedUntil: null, attempts: sql`greatest(${outbox.attempts} - 1, 0)` })
      .where(and(inArray(outbox.id, ids), eq(outbox.status, 'pending')));
  }

  private async send(row: ClaimedRow): Promise<Attempt> {
    const adapter = this.deps.adapters[row.channel];
    const message = outboundMessage(row);
    let result: SendResult;
    try {
      if (!message) result = { ok: false, retryable: false, error: 'message or conversation not found' };
      else if (row.unreachable) result = { ok: false, retryable: false, error: 'recipient unreachable on this channel' };
      else if (!adapter) result = { ok: false, retryable: true, error: `channel ${row.channel} is not enabled` };
      else result = await adapter.send(message);
    } catch (err) {
      // An adapter that throws could not reach its remote: treat as retryable.
      result = { ok: false, retryable: true, error: err instanceof Error ? err.message : String(err) };
    }
    return { row, result, identityId: message ? row.identity_id : null };
  }

  /** Records plain successes as sent; true when the statement also announced them to live views. */
  private async markSent(attempts: Attempt[]): Promise<boolean> {
    if (attempts.length === 0) return false;
    const now = this.deps.clock.now();
    const { db } = this.deps;
    const sent = db.$with('sent_outbox', { id: outbox.id }).as(
      db
        .update(outbox)
        .set({ status: 'sent', sentAt: now, lockedUntil: null, lastError: null })
        .where(inArray(outbox.id, attempts.map((a) => a.row.id)))
        .returning({ id: outbox.id })
        .getSQL(),
    );
    // One announcement for the batch, evaluated per row: PostgreSQL sends identical NOTIFYs of a
    // transaction once.
    const delivered = [...new Map(attempts.map((a) => [a.row.conversation_id + (a.identityId ?? ''), { conversationId: a.row.conversation_id, channelIdentityId: a.identityId }])).values()];
    const announce = this.deps.deliveredSql?.(delivered);
    await db
      .with(sent)
      .update(messages)
      .set({ deliveryStatus: 'sent', deliveryError: null })
      .where(inArray(messages.id, attempts.map((a) => a.row.message_id)))
      .returning({ id: messages.id, ...(announce ? { announced: announce } : {}) });
    for (const { row } of attempts) {
      this.deps.logger.info({ conversationId: row.conversation_id, messageId: row.message_id, outboxId: row.id, channel: row.channel, attempts: row.attempts }, 'outbox.sent');
    }
    return announce !== undefined;
  }

  private async record({ row, result, identityId }: Attempt): Promise<void> {
    const { db, clock, logger } = this.deps;
    const log = logger.child({ conversationId: row.conversation_id, messageId: row.message_id, outboxId: row.id });
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
      // Adapters' errors quote what their clients saw (Bot API URLs carry the bot token).
      const error = redactSecrets(result.error);
      const delay = Math.max(result.retryAfterMs ?? 0, backoffMs(row.attempts));
      await db.transaction(async (tx) => {
        await tx
          .update(outbox)
          .set(
            giveUp
              ? { status: 'failed', lockedUntil: null, lastError: error }
              : { nextAttemptAt: new Date(now.getTime() + delay), lockedUntil: null, lastError: error },
          )
          .where(eq(outbox.id, row.id));
        await tx
          .update(messages)
          .set({ deliveryStatus: giveUp ? 'failed' : 'pending', deliveryError: error })
          .where(eq(messages.id, row.message_id));
        if (result.unreachable && identityId) {
          await tx
            .update(channelIdentities)
            .set({ unreachable: true, unreachableReason: error })
            .where(eq(channelIdentities.id, identityId));
        }
      });
      log.warn({ channel: row.channel, attempts: row.attempts, error, giveUp }, giveUp ? 'outbox.failed' : 'outbox.retry');
    }
  }
}

/** The message to send for a claimed row; null when its message, conversation or identity is gone. */
function outboundMessage(row: ClaimedRow): OutboundMessage | null {
  const { author, text, created_at, conversation_channel, locale, thread, reply_token, identity_id, external_id } = row;
  if (author === null || text === null || created_at === null || conversation_channel === null || locale === null) return null;
  if (identity_id === null || external_id === null || reply_token === null) return null;
  return {
    messageId: row.message_id,
    conversationId: row.conversation_id,
    channel: conversation_channel,
    recipient: { channelIdentityId: identity_id, externalId: external_id, displayName: row.display_name },
    author,
    text,
    quickReplies: row.quick_replies ?? [],
    locale,
    thread: { ...thread, replyToken: reply_token },
    createdAt: created_at,
  };
}
