import { randomUUID } from 'node:crypto';
import { getTableColumns } from 'drizzle-orm';
import type { Clock } from '../core/ports.js';
import { Batcher } from '../db/batcher.js';
import type { Db } from '../db/client.js';
import { fromJson, rawQuery, rowMapper } from '../db/raw.js';
import { type Conversation, conversations, type Message, messages } from '../db/schema.js';
import type { ConversationPatch, Reply } from './responder.js';

/**
 * The bot's two hot statements, written once as SQL and run for many conversations at a time
 * (group commit, see Batcher): taking conversations' leases with their pending messages, and
 * storing finished turns. Building them with drizzle per call cost more CPU than running them.
 *
 * A turn is stored without a transaction of its own: it is guarded by the version of the
 * conversation it was decided on (see turnVersionSql). If that changed since (an agent took the
 * case), the guard keeps every part of the turn from being written, and the caller runs the turn
 * again the careful way, inside a transaction holding the row lock.
 */

/**
 * Columns a turn does not decide on, left out of its version: intake touches them for every new
 * message (the consumer typing on while the bot answers must not void the answer), the lease and
 * an agent opening the case change them. Every other column, present or future, is in the version.
 */
const UNVERSIONED = new Set(['last_message_at', 'updated_at', 'identity_level', 'thread', 'processing_until', 'agent_seen_at']);

/** The version of a conversation row as a turn sees it: a digest of the columns it decides on. */
function turnVersionSql(alias: string): string {
  const columns = Object.values(getTableColumns(conversations))
    .map((c) => c.name)
    .filter((name) => !UNVERSIONED.has(name));
  return `md5(row(${columns.map((c) => `${alias}.${c}`).join(', ')})::text)`;
}

/** A conversation row with the version its turn is decided on. */
export interface VersionedConversation {
  conversation: Conversation;
  version: string;
}

export interface Leased extends VersionedConversation {
  /** The first pending inbound messages, oldest first. */
  pending: Message[];
}

export interface FinishedTurn {
  conversation: VersionedConversation;
  messageId: string;
  now: Date;
  replies: Reply[];
  patch: ConversationPatch;
  /** The channel reads replies from our store: they are delivered once committed (no outbox row). */
  delivered: boolean;
  /** The live event announcing the change, NOTIFYed with the commit. */
  notify: { channel: string; payload: string } | null;
}

export interface StoredTurn extends VersionedConversation {
  /** Reply ids, in order. */
  replyIds: string[];
  /** No other message of the conversation waits: the statement released the lease. */
  released: boolean;
}

/** Pending messages of one conversation read with its lease (each still runs in its own turn). */
export const PENDING_BATCH = 20;

/**
 * Every statement that locks several conversation rows locks them in id order (intake's, the
 * lease's, the turn write's guard): two of them never wait for each other in a cycle.
 */
const LEASE_SQL = `with free as (
  select c.id from conversations c
  where c.id = any($1::text::uuid[]) and (c.processing_until is null or c.processing_until < $3::text::timestamptz)
  order by c.id for no key update of c
)
update conversations c set processing_until = $2::text::timestamptz
from free where c.id = free.id
returning c.*, ${turnVersionSql('c')} as kefu_version,
  (select coalesce(json_agg(p order by p.seq), '[]'::json) from (
    select * from messages m where m.conversation_id = c.id and m.direction = 'in' and m.processed_at is null
    order by m.seq limit ${PENDING_BATCH}) p) as kefu_pending`;

/**
 * A finished turn: the rows `replyStatements` writes in a transactional turn (replies a millisecond
 * apart, delivered or queued in the outbox), the message marked processed, the new state, and the
 * lease released when nothing else waits; each turn only if its guard holds.
 *
 * The guard compares versions after joining by id (`offset 0` keeps the comparison out of the
 * join). As a join condition PostgreSQL hashed on it: it scanned the conversations table and
 * digested every row, state and all, for each batch of turns. Plans made while the table is small
 * (a new installation; any time on a server without autovacuum, which never re-plans them) chose
 * that: 7 % of PostgreSQL's CPU in an intake flood.
 */
export const WRITE_SQL = `with t as (
  select * from json_to_recordset($1::text::json) as t(
    conversation_id uuid, version text, message_id uuid, turn_at timestamptz, channel channel_kind,
    delivered boolean, patch jsonb, replies json, notify_channel text, notify text)
),
guard as (
  select l.id from (
    select c.id, ${turnVersionSql('c')} as version, t.version as expected
    from t join conversations c on c.id = t.conversation_id
    order by c.id offset 0 for no key update of c
  ) l where l.version = l.expected
),
r as (
  select t.conversation_id, t.channel, t.delivered, t.turn_at, e.v, e.ord
  from t join guard g on g.id = t.conversation_id
  cross join lateral json_array_elements(t.replies) with ordinality as e(v, ord)
),
inserted as (
  insert into messages (id, conversation_id, direction, author, channel, text, quick_replies, delivery_status, created_at)
  select (r.v->>'id')::uuid, r.conversation_id, 'out', (r.v->>'author')::message_author, r.channel, r.v->>'text',
    nullif((r.v->'quickReplies')::jsonb, 'null'::jsonb),
    (case when r.delivered then 'sent' else 'pending' end)::delivery_status,
    r.turn_at + (r.ord - 1) * interval '1 millisecond'
  from r order by r.conversation_id, r.ord
  returning id
),
queued as (
  insert into outbox (message_id, conversation_id, channel, next_attempt_at)
  select (r.v->>'id')::uuid, r.conversation_id, r.channel, r.turn_at from r where not r.delivered
  order by r.conversation_id, r.ord
  returning id
),
processed as (
  update messages m set processed_at = t.turn_at from t join guard g on g.id = t.conversation_id
  where m.id = t.message_id returning m.id
)
update conversations c set
  state = case when t.patch ? 'state' then t.patch->'state' else c.state end,
  flow_id = case when t.patch ? 'flowId' then t.patch->>'flowId' else c.flow_id end,
  flow_version = case when t.patch ? 'flowVersion' then t.patch->>'flowVersion' else c.flow_version end,
  locale = case when t.patch ? 'locale' then (t.patch->>'locale')::locale else c.locale end,
  priority = case when t.patch ? 'priority' then (t.patch->>'priority')::smallint else c.priority end,
  status = case when t.patch ? 'status' then (t.patch->>'status')::conversation_status else c.status end,
  updated_at = t.turn_at,
  last_message_at = case when json_array_length(t.replies) > 0 then t.turn_at else c.last_message_at end,
  processing_until = case when exists (
    select 1 from messages w where w.conversation_id = c.id and w.direction = 'in' and w.processed_at is null and w.id <> t.message_id
  ) then c.processing_until else null end
from t join guard g on g.id = t.conversation_id
where c.id = t.conversation_id
returning c.*, ${turnVersionSql('c')} as kefu_version, case when t.notify is null then null else pg_notify(t.notify_channel, t.notify) end as kefu_notified`;

/** The version of the `conversations` row, for statements that name the table itself (a transactional turn's update). */
export const CONVERSATION_VERSION_SQL = turnVersionSql('"conversations"');

const toConversation = rowMapper(conversations);
const toMessage = rowMapper(messages);

export class TurnStore {
  private readonly leases: Batcher<string, Leased | null>;
  private readonly writes: Batcher<{ turn: FinishedTurn; replyIds: string[] }, StoredTurn | null>;

  constructor(db: Db, clock: Clock, leaseMs: number) {
    const query = rawQuery(db);
    this.leases = new Batcher(async (ids) => {
      const now = clock.now();
      const rows = await query(LEASE_SQL, [`{${[...new Set(ids)].join(',')}}`, new Date(now.getTime() + leaseMs).toISOString(), now.toISOString()]);
      const byId = new Map<string, Leased>();
      for (const raw of rows) {
        const conversation = toConversation(raw);
        byId.set(conversation.id, { conversation, version: String(raw.kefu_version), pending: pendingFromJson(raw.kefu_pending) });
      }
      // An id asked twice in one batch is leased once: only its first caller gets it.
      const given = new Set<string>();
      return ids.map((id) => {
        if (given.has(id)) return null;
        given.add(id);
        return byId.get(id) ?? null;
      });
    });
    this.writes = new Batcher(async (items) => {
      const input = items.map(({ turn, replyIds }) => ({
        conversation_id: turn.conversation.conversation.id,
        version: turn.conversation.version,
        message_id: turn.messageId,
        turn_at: turn.now.toISOString(),
        channel: turn.conversation.conversation.channel,
        delivered: turn.delivered,
        patch: turn.patch,
        replies: turn.replies.map((r, i) => ({
          id: replyIds[i],
          author: r.author ?? 'bot',
          text: r.text,
          ...(r.quickReplies && r.quickReplies.length > 0 ? { quickReplies: r.quickReplies } : {}),
        })),
        notify_channel: turn.notify?.channel ?? null,
        notify: turn.notify?.payload ?? null,
      }));
      const rows = await query(WRITE_SQL, [JSON.stringify(input)]);
      const byId = new Map<string, VersionedConversation>();
      for (const raw of rows) {
        const conversation = toConversation(raw);
        byId.set(conversation.id, { conversation, version: String(raw.kefu_version) });
      }
      return items.map(({ turn, replyIds }) => {
        const stored = byId.get(turn.conversation.conversation.id);
        return stored ? { ...stored, replyIds, released: stored.conversation.processingUntil === null } : null;
      });
    });
  }

  /** Takes the conversation's lease; null when another processor holds it. */
  lease(conversationId: string): Promise<Leased | null> {
    return this.leases.call(conversationId);
  }

  /** Stores a finished turn; null when the conversation changed since its version (nothing was written). */
  write(turn: FinishedTurn): Promise<StoredTurn | null> {
    return this.writes.call({ turn, replyIds: turn.replies.map(() => randomUUID()) });
  }
}

/** Pending messages read as JSON (column names, driver values), mapped the way drizzle maps rows. */
function pendingFromJson(value: unknown): Message[] {
  const rows = fromJson(value) as Record<string, unknown>[] | null;
  return (rows ?? []).map(toMessage);
}
