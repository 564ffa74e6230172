import { sql } from 'drizzle-orm';
import {
  pgSequence,
  bigserial,
  customType,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const createdAt = () => ts('created_at').notNull().defaultNow();

export const channelKind = pgEnum('channel_kind', ['webchat', 'telegram', 'email']);
export const locale = pgEnum('locale', ['zh-Hans', 'zh-Hant', 'en']);
export const merchantStatus = pgEnum('merchant_status', ['active', 'warned', 'suspended']);
export const couponState = pgEnum('coupon_state', ['unused', 'used', 'expired', 'refund_pending', 'refunded']);
export const conversationStatus = pgEnum('conversation_status', [
  'bot', // the flow engine answers
  'waiting', // handed off, no owner yet
  'assigned', // an agent owns it
  'resolved', // an agent resolved it; satisfaction may follow
  'closed', // finished; a new message opens a new conversation
]);
export const messageDirection = pgEnum('message_direction', ['in', 'out', 'internal']);
export const messageAuthor = pgEnum('message_author', ['customer', 'bot', 'agent', 'system']);
export const deliveryStatus = pgEnum('delivery_status', ['received', 'pending', 'sent', 'failed', 'not_sent']);
export const outboxStatus = pgEnum('outbox_status', ['pending', 'sent', 'failed']);
export const refundStatus = pgEnum('refund_status', ['approved', 'pending_review', 'denied', 'paid']);
export const complaintCategory = pgEnum('complaint_category', [
  'hidden_charges',
  'not_as_described',
  'coupon_refused',
  'worse_treatment',
  'quality_hygiene',
  'staff_attitude',
  'shop_closed',
  'other',
]);
export const complaintOutcome = pgEnum('complaint_outcome', ['refund', 'compensation', 'apology', 'just_report']);
export const complaintStatus = pgEnum('complaint_status', ['open', 'merchant_notified', 'resolved', 'rejected']);
/** How sure we are of who wrote (src/core/identity.ts). */
export const identityLevel = pgEnum('identity_level', ['proven', 'claimed', 'anonymous']);
export const agentRole = pgEnum('agent_role', ['agent', 'manager', 'admin', 'editor']);
export const handoffReason = pgEnum('handoff_reason', [
  'customer_request',
  'not_understood',
  'anger',
  'complaint',
  'refund_exception',
  'refund_review',
  'callback_requested',
  'flow',
]);

/** A consumer of the platform; channel identities point at one. */
export const customers = pgTable(
  'customers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name'),
    phone: text('phone'),
    email: text('email'),
    locale: locale('locale').notNull().default('zh-Hans'),
    birthYear: smallint('birth_year'),
    /** First-time users get the gentlest guidance and are flagged to agents. */
    firstTimeUser: boolean('first_time_user').notNull().default(false),
    /** A guest created from an unknown channel identity, not yet linked to a platform account. */
    guest: boolean('guest').notNull().default(false),
    /** Personal data erased on the customer's request (`kefu customer erase`); order and money records stay. */
    erasedAt: ts('erased_at'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('customers_phone_uq').on(t.phone), index('customers_email_idx').on(t.email)],
);

/** How a customer is reachable on one channel (Telegram user, email address, web chat identity). */
export const channelIdentities = pgTable(
  'channel_identities',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    channel: channelKind('channel').notNull(),
    externalId: text('external_id').notNull(),
    displayName: text('display_name'),
    /** Bot blocked, address bounced: outbound stops trying. */
    unreachable: boolean('unreachable').notNull().default(false),
    unreachableReason: text('unreachable_reason'),
    /**
     * The sender proved this identity is theirs (a Telegram user's own shared contact). Honoured
     * only on channels that authenticate the sender's id themselves, never for an email address.
     */
    provenBy: text('proven_by'),
    provenAt: ts('proven_at'),
    createdAt: createdAt(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('channel_identities_channel_external_uq').on(t.channel, t.externalId),
    index('channel_identities_customer_idx').on(t.customerId),
  ],
);

export const merchants = pgTable('merchants', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  category: text('category').notNull(),
  city: text('city').notNull(),
  address: text('address').notNull(),
  phone: text('phone').notNull(),
  status: merchantStatus('status').notNull().default('active'),
  statusReason: text('status_reason'),
  complaintCount: integer('complaint_count').notNull().default(0),
  /** Where complaint notices and response links go; null = derived in code (see src/aftersales/merchant-contact.ts). */
  contactEmail: text('contact_email'),
  createdAt: createdAt(),
});

/** One included item of a deal, told to consumers word for word. */
export interface DealItem {
  item: string;
  quantity: number;
}

/** A deal's wording in one more language; `included` names the items in the deal's order. */
export interface DealTranslation {
  title?: string;
  usageNotes?: string;
  included?: string[];
}
export type DealTranslations = Partial<Record<'zh-Hans' | 'zh-Hant' | 'en', DealTranslation>>;

export const deals = pgTable(
  'deals',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    merchantId: uuid('merchant_id')
      .notNull()
      .references(() => merchants.id),
    title: text('title').notNull(),
    category: text('category').notNull(),
    included: jsonb('included').$type<DealItem[]>().notNull(),
    validFrom: date('valid_from', { mode: 'string' }).notNull(),
    validTo: date('valid_to', { mode: 'string' }).notNull(),
    /** ISO weekdays 1 (Monday) .. 7 (Sunday) on which the coupon can be used. */
    weekdays: jsonb('weekdays').$type<number[]>().notNull(),
    hoursFrom: text('hours_from').notNull(),
    hoursTo: text('hours_to').notNull(),
    reservationRequired: boolean('reservation_required').notNull().default(false),
    usageNotes: text('usage_notes'),
    priceCents: integer('price_cents').notNull(),
    originalPriceCents: integer('original_price_cents').notNull(),
    /** Unused coupons refundable at any time. */
    refundAnytime: boolean('refund_anytime').notNull().default(false),
    /** Unused coupons refunded automatically when they expire. */
    refundOnExpiry: boolean('refund_on_expiry').notNull().default(false),
    /**
     * The platform's own wording of this deal in other languages (title, usage notes, included
     * items by position); what a locale lacks is told in the original words.
     */
    translations: jsonb('translations').$type<DealTranslations>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    index('deals_merchant_idx').on(t.merchantId),
    check('deals_price_positive', sql`${t.priceCents} > 0 and ${t.originalPriceCents} >= ${t.priceCents}`),
  ],
);

export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orderNumber: text('order_number').notNull(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    dealId: uuid('deal_id')
      .notNull()
      .references(() => deals.id),
    quantity: integer('quantity').notNull(),
    unitPriceCents: integer('unit_price_cents').notNull(),
    totalCents: integer('total_cents').notNull(),
    paymentMethod: text('payment_method').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('orders_number_uq').on(t.orderNumber),
    index('orders_customer_idx').on(t.customerId, t.createdAt),
  ],
);

export const coupons = pgTable(
  'coupons',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    code: text('code').notNull(),
    state: couponState('state').notNull().default('unused'),
    usedAt: ts('used_at'),
    expiresAt: ts('expires_at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('coupons_code_uq').on(t.code), index('coupons_order_idx').on(t.orderId)],
);

/** Agents, managers and admins of the console. */
export const agents = pgTable(
  'agents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    role: agentRole('role').notNull(),
    passwordHash: text('password_hash').notNull(),
    active: boolean('active').notNull().default(true),
    /** The console language this person chose (remembered across logins). */
    locale: locale('locale').notNull().default('zh-Hans'),
    /** The team whose canned replies this person uses. */
    team: text('team').notNull().default('support'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('agents_email_uq').on(t.email)],
);

/** Canned replies of a team, in every locale, with `{{customer.name}}`-style variables from the case. */
export const macros = pgTable(
  'macros',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    team: text('team').notNull().default('support'),
    title: text('title').notNull(),
    body: jsonb('body').$type<{ 'zh-Hans': string; 'zh-Hant': string; en: string }>().notNull(),
    createdByAgentId: uuid('created_by_agent_id').references(() => agents.id),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('macros_team_idx').on(t.team, t.title)],
);

/** Console login sessions; the cookie/bearer value is stored only as a SHA-256 hash. */
export const agentSessions = pgTable(
  'agent_sessions',
  {
    tokenHash: text('token_hash').primaryKey(),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id),
    expiresAt: ts('expires_at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('agent_sessions_agent_idx').on(t.agentId)],
);

/** A conversation with one customer on one channel identity, from first message to close. */
export const conversations = pgTable(
  'conversations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    channelIdentityId: uuid('channel_identity_id')
      .notNull()
      .references(() => channelIdentities.id),
    channel: channelKind('channel').notNull(),
    status: conversationStatus('status').notNull().default('bot'),
    locale: locale('locale').notNull().default('zh-Hans'),
    /** Flow state, pinned to the flow version the conversation started on; carries its own `version`. */
    flowId: text('flow_id'),
    flowVersion: text('flow_version'),
    state: jsonb('state').$type<Record<string, unknown>>().notNull().default({}),
    /** Channel threading data (email subject, Message-IDs, reply token). */
    thread: jsonb('thread').$type<Record<string, unknown>>().notNull().default({}),
    /** Token we put in reply addresses so inbound mail finds its conversation. */
    replyToken: text('reply_token').notNull(),
    priority: smallint('priority').notNull().default(0),
    ownerAgentId: uuid('owner_agent_id').references(() => agents.id),
    /** An agent to whom a transfer was offered and not yet accepted. */
    transferToAgentId: uuid('transfer_to_agent_id').references(() => agents.id),
    escalated: boolean('escalated').notNull().default(false),
    handoffAt: ts('handoff_at'),
    firstResponseDueAt: ts('first_response_due_at'),
    resolutionDueAt: ts('resolution_due_at'),
    firstHumanReplyAt: ts('first_human_reply_at'),
    resolvedAt: ts('resolved_at'),
    resolutionCode: text('resolution_code'),
    satisfaction: smallint('satisfaction'),
    /** Lease held by the one processor stepping this conversation (per-conversation ordering). */
    processingUntil: ts('processing_until'),
    /** Linked earlier case (e.g. an email reply naming a different order). */
    parentConversationId: uuid('parent_conversation_id'),
    /** The identity level of the latest customer message: agents see "sender not verified". */
    identityLevel: identityLevel('identity_level').notNull().default('anonymous'),
    /**
     * Read-up-to marker: an agent opened the case and saw the customer's messages written up to
     * this moment (the web chat shows them as "seen by a support agent").
     */
    agentSeenAt: ts('agent_seen_at'),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    lastMessageAt: ts('last_message_at').notNull().defaultNow(),
  },
  (t) => [
    // One open conversation per channel identity: concurrent first messages cannot open two. A case
    // linked to an earlier one (an email reply naming a different order) may be open beside it.
    uniqueIndex('conversations_open_identity_uq')
      .on(t.channelIdentityId)
      .where(sql`${t.status} <> 'closed' and ${t.parentConversationId} is null`),
    // Every inbound message looks up its sender's open conversation (linked cases included), and
    // every web chat history read all of the sender's conversations: without this, each read the
    // whole conversations table (18–24 ms at 50,000 conversations, 0.2 ms with it). Not partial, so
    // closed conversations are found too; `channel_identity_id` never changes, so updates stay HOT.
    index('conversations_identity_idx').on(t.channelIdentityId),
    uniqueIndex('conversations_reply_token_uq').on(t.replyToken),
    index('conversations_customer_idx').on(t.customerId, t.createdAt),
    index('conversations_queue_idx').on(t.status, t.priority, t.firstResponseDueAt),
  ],
);

/** Every message in and out, and internal agent notes; the transcript. */
export const messages = pgTable(
  'messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Monotonic position, used as the web chat history cursor. */
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    direction: messageDirection('direction').notNull(),
    author: messageAuthor('author').notNull(),
    agentId: uuid('agent_id').references(() => agents.id),
    channel: channelKind('channel').notNull(),
    /** The channel's own id: dedupe key for inbound, provider id for delivered outbound. */
    externalId: text('external_id'),
    text: text('text').notNull(),
    choice: text('choice'),
    quickReplies: jsonb('quick_replies').$type<{ id: string; label: string }[]>(),
    attachments: jsonb('attachments').$type<Record<string, unknown>[]>().notNull().default([]),
    /** Full original content for agents (e.g. an email with its quoted history). */
    original: text('original'),
    /** Inbound: waiting for the flow engine until processed. */
    processedAt: ts('processed_at'),
    deliveryStatus: deliveryStatus('delivery_status').notNull(),
    deliveryError: text('delivery_error'),
    /** An edited message keeps its earlier version: this points at the message it replaces. */
    editOfMessageId: uuid('edit_of_message_id'),
    /** The channel's id of the underlying message when externalId is a delivery id (Telegram `chat:message_id`); edits find their original by it. */
    channelRef: text('channel_ref'),
    /** Personal data in text, original and subject masked by the retention timer (RETENTION_DAYS). */
    maskedAt: ts('masked_at'),
    /** This message's own subject (email), decoded; the conversation keeps only its first. */
    subject: text('subject'),
    /** Inbound: how sure we were of the sender of this very message; account actions need `proven`. */
    identityLevel: identityLevel('identity_level'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('messages_channel_external_uq').on(t.channel, t.externalId),
    uniqueIndex('messages_seq_uq').on(t.seq),
    index('messages_conversation_idx').on(t.conversationId, t.seq),
    index('messages_channel_ref_idx').on(t.channel, t.channelRef),
    index('messages_unprocessed_idx')
      .on(t.conversationId, t.seq)
      .where(sql`${t.direction} = 'in' and ${t.processedAt} is null`),
  ],
);

/** Durable outbound queue; written in the same transaction as the change that caused it. */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    messageId: uuid('message_id')
      .notNull()
      .references(() => messages.id),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    channel: channelKind('channel').notNull(),
    status: outboxStatus('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
    lockedUntil: ts('locked_until'),
    lastError: text('last_error'),
    createdAt: createdAt(),
    sentAt: ts('sent_at'),
  },
  (t) => [
    uniqueIndex('outbox_message_uq').on(t.messageId),
    index('outbox_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index('outbox_conversation_idx').on(t.conversationId, t.id),
  ],
);

export const refunds = pgTable(
  'refunds',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    couponId: uuid('coupon_id')
      .notNull()
      .references(() => coupons.id),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    amountCents: integer('amount_cents').notNull(),
    status: refundStatus('status').notNull(),
    /** The policy rule that decided it (refund_anytime, refund_on_expiry, review:*). */
    policy: text('policy').notNull(),
    reason: text('reason'),
    conversationId: uuid('conversation_id').references(() => conversations.id),
    decidedByAgentId: uuid('decided_by_agent_id').references(() => agents.id),
    expectedBy: ts('expected_by'),
    createdAt: createdAt(),
    decidedAt: ts('decided_at'),
    /** When the payment side reported the money paid out (refund gateway status). */
    paidAt: ts('paid_at'),
  },
  // A coupon is refunded at most once, also under concurrent requests.
  (t) => [uniqueIndex('refunds_coupon_uq').on(t.couponId), index('refunds_customer_idx').on(t.customerId, t.createdAt)],
);

export const complaints = pgTable(
  'complaints',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ticketNumber: text('ticket_number').notNull(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    merchantId: uuid('merchant_id').references(() => merchants.id),
    orderId: uuid('order_id').references(() => orders.id),
    conversationId: uuid('conversation_id').references(() => conversations.id),
    category: complaintCategory('category').notNull(),
    description: text('description').notNull(),
    occurredAt: text('occurred_at'),
    wantedOutcome: complaintOutcome('wanted_outcome').notNull(),
    attachments: jsonb('attachments').$type<Record<string, unknown>[]>().notNull().default([]),
    status: complaintStatus('status').notNull().default('open'),
    createdAt: createdAt(),
    resolvedAt: ts('resolved_at'),
    /** The merchant was sent a response link at this time, answerable until merchantDueAt. */
    merchantNotifiedAt: ts('merchant_notified_at'),
    merchantDueAt: ts('merchant_due_at'),
    merchantRespondedAt: ts('merchant_responded_at'),
    /** The deadline passed without an answer: counts against the merchant. */
    merchantMissedAt: ts('merchant_missed_at'),
    /** The agent's decision (closed set in src/aftersales/decisions.ts) and when it was told. */
    decision: text('decision'),
    decisionAmountCents: integer('decision_amount_cents'),
    decidedAt: ts('decided_at'),
    decidedByAgentId: uuid('decided_by_agent_id').references(() => agents.id),
  },
  (t) => [uniqueIndex('complaints_ticket_uq').on(t.ticketNumber), index('complaints_merchant_idx').on(t.merchantId)],
);

/** A typed record of one handoff to humans: why, what was collected, the context packet. */
export const handoffs = pgTable(
  'handoffs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    ticketNumber: text('ticket_number').notNull(),
    reason: handoffReason('reason').notNull(),
    priority: smallint('priority').notNull().default(0),
    slots: jsonb('slots').$type<Record<string, unknown>>().notNull().default({}),
    summary: text('summary').notNull(),
    context: jsonb('context').$type<Record<string, unknown>>().notNull().default({}),
    callbackPhone: text('callback_phone'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('handoffs_ticket_uq').on(t.ticketNumber), index('handoffs_conversation_idx').on(t.conversationId)],
);

/** Durable timers (SLA warnings and breaches, follow-ups): claimed with FOR UPDATE SKIP LOCKED. */
export const timers = pgTable(
  'timers',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    subjectId: uuid('subject_id').notNull(),
    dueAt: ts('due_at').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    firedAt: ts('fired_at'),
    cancelledAt: ts('cancelled_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('timers_kind_subject_uq').on(t.kind, t.subjectId),
    index('timers_due_idx').on(t.dueAt).where(sql`${t.firedAt} is null and ${t.cancelledAt} is null`),
  ],
);

/** Who did what: ownership changes, refunds, policy decisions, logins. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index('audit_log_subject_idx').on(t.subjectType, t.subjectId)],
);

/** Notices for console users (SLA warnings and breaches, transfers offered): one row per recipient or audience. */
export const notifications = pgTable(
  'notifications',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** `agent`: one agent (agentId); `managers`: every manager. */
    audience: text('audience').notNull(),
    agentId: uuid('agent_id').references(() => agents.id),
    kind: text('kind').notNull(),
    conversationId: uuid('conversation_id').references(() => conversations.id),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    readAt: ts('read_at'),
    createdAt: createdAt(),
  },
  (t) => [index('notifications_audience_idx').on(t.audience, t.agentId, t.createdAt)],
);

/** Web chat sessions: the bearer token is stored only as a SHA-256 hash. */
export const webchatSessions = pgTable(
  'webchat_sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tokenHash: text('token_hash').notNull(),
    channelIdentityId: uuid('channel_identity_id')
      .notNull()
      .references(() => channelIdentities.id),
    locale: locale('locale'),
    /** Proven when opened with a signed identity (or a seeded customer in demo mode); null = older session. */
    identityLevel: identityLevel('identity_level'),
    createdAt: createdAt(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [uniqueIndex('webchat_sessions_token_uq').on(t.tokenHash)],
);

/**
 * Running numbers of tickets. Sequences, not counter rows: a counter row would be locked by
 * every handoff until its turn commits, serialising all handoffs of the day.
 */
export const handoffTicketSeq = pgSequence('handoff_ticket_seq');
export const complaintTicketSeq = pgSequence('complaint_ticket_seq');


/** Every flow version a conversation may be pinned to: the definition snapshot by content hash. */
export const flowVersions = pgTable(
  'flow_versions',
  {
    flowId: text('flow_id').notNull(),
    version: text('version').notNull(),
    definition: jsonb('definition').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.flowId, t.version] })],
);

/**
 * Login attempt counters, one row per account (`account:<email>`) and per client address
 * (`address:<ip>`). Each attempt reserves its slot with one upsert before the password is
 * checked, so parallel guesses cannot all slip under the limit; `accounts` holds the distinct
 * accounts an address failed on (capped), which is what locks an address out.
 */
export const loginThrottle = pgTable('login_throttle', {
  key: text('key').primaryKey(),
  windowStart: ts('window_start').notNull(),
  attempts: integer('attempts').notNull().default(0),
  accounts: text('accounts').array().notNull().default(sql`'{}'::text[]`),
});

/** Binary payloads (dead letters, photos); read back as Buffers from both drivers. */
const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v)),
});

/**
 * Input a channel could never store or answer (malformed updates, mail too large or too deeply
 * nested): the raw payload kept for operators instead of a 500 that makes the sender redeliver forever.
 */
export const deadLetters = pgTable(
  'dead_letters',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    channel: text('channel').notNull(),
    reason: text('reason').notNull(),
    payload: bytea('payload').notNull(),
    payloadBytes: integer('payload_bytes').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('dead_letters_created_idx').on(t.createdAt)],
);

/**
 * Platform studio: every saved version of a document (a flow, the lexicon, wording, a prompt, a
 * golden transcript). Rows are immutable; a draft is the newest unpublished version of a document.
 */
export const studioVersions = pgTable(
  'studio_versions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** The document's path as shipped, e.g. `flows/refund.yaml`, `prompts/classify.md`. */
    documentId: text('document_id').notNull(),
    /** 1, 2, 3… per document. */
    number: integer('number').notNull(),
    content: text('content').notNull(),
    authorId: uuid('author_id').references(() => agents.id),
    comment: text('comment').notNull().default(''),
    /** The version this one was edited from; null = edited from the baseline file. */
    parentId: uuid('parent_id'),
    /** A name given to a version ("before the spring campaign"). */
    name: text('name'),
    publishedAt: ts('published_at'),
    publishedBy: uuid('published_by').references(() => agents.id),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('studio_versions_doc_number_uq').on(t.documentId, t.number)],
);

/** Per document: the draft being edited and the published version in force (null = the baseline file). */
export const studioHeads = pgTable('studio_heads', {
  documentId: text('document_id').primaryKey(),
  draftId: uuid('draft_id'),
  publishedId: uuid('published_id'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** Labelled utterances editors add from real traffic; they join the shipped labelled set. */
export const studioLabels = pgTable(
  'studio_labels',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    text: text('text').notNull(),
    intent: text('intent').notNull(),
    lang: text('lang').notNull(),
    authorId: uuid('author_id').references(() => agents.id),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('studio_labels_text_uq').on(t.text)],
);


export const merchantRemedy = pgEnum('merchant_remedy', ['refund', 'partial_refund', 'redo', 'apology']);
export const compensationStatus = pgEnum('compensation_status', ['proposed', 'approved', 'paid', 'rejected', 'failed']);
export const mailStatus = pgEnum('mail_status', ['pending', 'sent', 'failed']);

/** A merchant's answer to a complaint through its signed response link: one per complaint. */
export const merchantResponses = pgTable(
  'merchant_responses',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    complaintId: uuid('complaint_id')
      .notNull()
      .references(() => complaints.id),
    merchantId: uuid('merchant_id')
      .notNull()
      .references(() => merchants.id),
    statement: text('statement').notNull(),
    remedy: merchantRemedy('remedy').notNull(),
    /** For a partial refund: what the merchant offers. */
    amountCents: integer('amount_cents'),
    late: boolean('late').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('merchant_responses_complaint_uq').on(t.complaintId)],
);

/** Small photos a merchant attached to its answer (content type sniffed from the bytes). */
export const merchantResponsePhotos = pgTable(
  'merchant_response_photos',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    responseId: uuid('response_id')
      .notNull()
      .references(() => merchantResponses.id),
    contentType: text('content_type').notNull(),
    bytes: bytea('bytes').notNull(),
    size: integer('size').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('merchant_response_photos_response_idx').on(t.responseId)],
);

/** Mail to people who are not conversation participants (merchants): a durable outbox of its own. */
export const mailOutbox = pgTable(
  'mail_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** Exactly-once key, e.g. `complaint.notice:<complaintId>`. */
    key: text('key').notNull(),
    toAddress: text('to_address').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html').notNull(),
    status: mailStatus('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
    lockedUntil: ts('locked_until'),
    lastError: text('last_error'),
    createdAt: createdAt(),
    sentAt: ts('sent_at'),
  },
  (t) => [uniqueIndex('mail_outbox_key_uq').on(t.key), index('mail_outbox_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`)],
);

/** Progress updates told to a consumer; the key makes each one happen exactly once. */
export const progressNotices = pgTable(
  'progress_notices',
  {
    key: text('key').primaryKey(),
    kind: text('kind').notNull(),
    conversationId: uuid('conversation_id').references(() => conversations.id),
    messageId: uuid('message_id'),
    createdAt: createdAt(),
  },
  (t) => [index('progress_notices_conversation_idx').on(t.conversationId)],
);

/** Payouts from the platform's guarantee fund: to the consumer, to be recovered from the merchant. */
export const compensations = pgTable(
  'compensations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    complaintId: uuid('complaint_id')
      .notNull()
      .references(() => complaints.id),
    merchantId: uuid('merchant_id').references(() => merchants.id),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    conversationId: uuid('conversation_id').references(() => conversations.id),
    amountCents: integer('amount_cents').notNull(),
    reason: text('reason').notNull(),
    status: compensationStatus('status').notNull(),
    proposedByAgentId: uuid('proposed_by_agent_id').references(() => agents.id),
    approvedByAgentId: uuid('approved_by_agent_id').references(() => agents.id),
    reference: text('reference'),
    createdAt: createdAt(),
    decidedAt: ts('decided_at'),
    paidAt: ts('paid_at'),
  },
  (t) => [
    index('compensations_merchant_idx').on(t.merchantId, t.createdAt),
    index('compensations_customer_idx').on(t.customerId, t.createdAt),
    check('compensations_amount_positive', sql`${t.amountCents} > 0`),
  ],
);

export type Customer = typeof customers.$inferSelect;
export type ChannelIdentity = typeof channelIdentities.$inferSelect;
export type Merchant = typeof merchants.$inferSelect;
export type Deal = typeof deals.$inferSelect;
export type Order = typeof orders.$inferSelect;
export type Coupon = typeof coupons.$inferSelect;
export type Agent = typeof agents.$inferSelect;
export type Conversation = typeof conversations.$inferSelect;
export type Message = typeof messages.$inferSelect;
export type OutboxRow = typeof outbox.$inferSelect;
export type Refund = typeof refunds.$inferSelect;
export type Complaint = typeof complaints.$inferSelect;
export type Handoff = typeof handoffs.$inferSelect;
export type Notification = typeof notifications.$inferSelect;
export type StudioVersion = typeof studioVersions.$inferSelect;

/**
 * Files consumers sent (photos, PDFs), as durable as the transcript. The message's `attachments`
 * entry points here by `ref`; `uploadKey` makes a re-sent upload (same client id, same channel
 * message) store once. `storage` says where the bytes are: `postgres` (the `bytes` column) or
 * `s3` (an object named after the row's id in ATTACHMENT_S3_BUCKET; `bytes` is null).
 */
export const attachmentBlobs = pgTable(
  'attachment_blobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    channelIdentityId: uuid('channel_identity_id')
      .notNull()
      .references(() => channelIdentities.id),
    uploadKey: text('upload_key').notNull(),
    contentType: text('content_type').notNull(),
    filename: text('filename'),
    size: integer('size').notNull(),
    bytes: bytea('bytes'),
    storage: text('storage', { enum: ['postgres', 's3'] }).notNull().default('postgres'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('attachment_blobs_upload_uq').on(t.channelIdentityId, t.uploadKey)],
);
