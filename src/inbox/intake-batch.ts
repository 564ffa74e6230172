import { z } from 'zod';
import type { Clock } from '../core/ports.js';
import { maskSecrets } from '../core/mask.js';
import type { InboundMessage } from '../core/message.js';
import { Batcher } from '../db/batcher.js';
import type { Db } from '../db/client.js';
import { rawQuery } from '../db/raw.js';
import { LIVE_CHANNEL } from './live-hub.js';

/**
 * Intake's common case for many messages in one statement (group commit): known senders with an
 * open conversation send plain messages. Each sender's identity is touched, its open conversation
 * found, the message inserted (deduped by its unique channel id) and the conversation touched, all
 * in one autocommit statement: each message is durable before its caller answers the channel.
 * Rows are locked in id order (senders, then conversations), as every statement locking several
 * conversations does, so concurrent batches never deadlock.
 * A message the statement cannot take (new sender, no open conversation) comes back without a
 * conversation, and the caller stores it the general way.
 */
const INTAKE_SQL = (announce: boolean) => `with t as (
  select * from json_to_recordset($1::text::json) as t(
    i int, channel channel_kind, sender text, display_name text, records boolean, basis text, remember boolean,
    level identity_level, external_id text, text text, choice text, attachments jsonb, original text,
    silent boolean, channel_ref text, created_at timestamptz)
),
senders as (
  select ci.id, t.i from channel_identities ci join t on ci.channel = t.channel and ci.external_id = t.sender
  order by ci.id for no key update of ci
),
ident as (
  update channel_identities ci set last_seen_at = $2::text::timestamptz,
    display_name = coalesce(t.display_name, ci.display_name),
    proven_by = case when t.records then coalesce(ci.proven_by, t.basis) else ci.proven_by end,
    proven_at = case when t.records then coalesce(ci.proven_at, $2::text::timestamptz) else ci.proven_at end
  from senders s join t on t.i = s.i where ci.id = s.id
  returning t.i, ci.id, ci.customer_id,
    (case when t.remember and (t.records or ci.proven_by is not null) then 'proven' else t.level::text end)::identity_level as level
),
conv as (
  select distinct on (ident.i) ident.i, c.id from ident join conversations c on c.channel_identity_id = ident.id and c.status <> 'closed'
  order by ident.i
),
ins as (
  insert into messages (conversation_id, direction, author, channel, external_id, text, choice, attachments, original,
    delivery_status, processed_at, channel_ref, created_at, identity_level)
  select conv.id, 'in', 'customer', t.channel, t.external_id, t.text, t.choice, t.attachments, t.original,
    'received', case when t.silent then $2::text::timestamptz end, t.channel_ref, t.created_at, ident.level
  from t join ident on ident.i = t.i join conv on conv.i = t.i
  order by t.i
  on conflict (channel, external_id) do nothing
  returning id, conversation_id, channel, external_id
),
locked as (
  select c.id, ident.level from conversations c join ins on ins.conversation_id = c.id join conv on conv.id = c.id join ident on ident.i = conv.i
  order by c.id for no key update of c
),
touched as (
  update conversations c set last_message_at = $2::text::timestamptz, updated_at = $2::text::timestamptz, identity_level = l.level
  from locked l where c.id = l.id
  returning c.id
)
select t.i, ident.id as identity_id, ident.customer_id, conv.id as conversation_id, ins.id as message_id${
  announce
    ? `,
  case when ins.id is not null then pg_notify($3::text, json_build_object('type', 'message', 'conversationId', conv.id, 'channelIdentityId', ident.id)::text) end as announced`
    : ''
}
from t left join ident on ident.i = t.i left join conv on conv.i = t.i
  left join ins on ins.channel = t.channel and ins.external_id = t.external_id`;

const Row = z.object({
  i: z.coerce.number(),
  identity_id: z.string().nullable(),
  customer_id: z.string().nullable(),
  conversation_id: z.string().nullable(),
  message_id: z.string().nullable(),
});

export type FastIntake =
  /** Stored. */
  | { kind: 'stored'; messageId: string; conversationId: string; customerId: string; channelIdentityId: string }
  /** Stored before (same channel id): the first copy stands. */
  | { kind: 'duplicate'; identity: { id: string; customerId: string } }
  /** Not for this path: store it the general way. */
  | { kind: 'general' };

/** Stores plain messages of known senders with an open conversation, together with others arriving at the same moment. */
export type IntakeBatch = (inbound: InboundMessage, now: Date) => Promise<FastIntake>;

/** One per database and process: the pipeline makes it, and intake shares it. */
export function createIntakeBatch(db: Db, clock: Clock, announce: boolean): IntakeBatch {
  const query = rawQuery(db);
  const text = INTAKE_SQL(announce);
  const batcher = new Batcher<{ inbound: InboundMessage; now: Date }, FastIntake>(async (items) => {
    // One message per sender and per channel id in a statement: a second one would meet the first
    // inside the same statement (its identity row, its unique key); it takes the general path.
    const senders = new Set<string>();
    const ids = new Set<string>();
    const input = items.flatMap(({ inbound: m, now: at }, i) => {
      const sender = `${m.channel}\u0000${m.sender.externalId}`;
      const id = `${m.channel}\u0000${m.externalMessageId}`;
      if (senders.has(sender) || ids.has(id)) return [];
      senders.add(sender);
      ids.add(id);
      const claim = m.identity;
      return [
        {
          i,
          channel: m.channel,
          sender: m.sender.externalId,
          display_name: m.sender.displayName || null,
          records: claim.remember && claim.level === 'proven',
          basis: claim.basis ?? 'channel',
          remember: claim.remember,
          level: claim.level,
          external_id: m.externalMessageId,
          text: maskSecrets(m.text),
          choice: m.choice,
          attachments: m.attachments,
          original: m.original === null ? null : maskSecrets(m.original),
          silent: m.silent,
          channel_ref: m.channelMessageRef,
          created_at: (m.receivedAt ?? at).toISOString(),
        },
      ];
    });
    const results: FastIntake[] = items.map(() => ({ kind: 'general' }));
    if (input.length === 0) return results;
    const rows = await query(text, [JSON.stringify(input), clock.now().toISOString(), ...(announce ? [LIVE_CHANNEL] : [])]);
    for (const raw of rows) {
      const row = Row.parse(raw);
      if (row.identity_id === null || row.customer_id === null || row.conversation_id === null) continue;
      results[row.i] =
        row.message_id === null
          ? { kind: 'duplicate', identity: { id: row.identity_id, customerId: row.customer_id } }
          : { kind: 'stored', messageId: row.message_id, conversationId: row.conversation_id, customerId: row.customer_id, channelIdentityId: row.identity_id };
    }
    return results;
  }, 64, 4);
  return (inbound, now) => batcher.call({ inbound, now });
}
