import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gt, inArray, isNotNull, min, ne, or, sql } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import {
  MessageRequest,
  SessionRequest,
  toInbound,
  verifyCustomerSignature,
  webchatExternalId,
} from '../../channels/webchat/index.js';
import { AppError } from '../core/errors.js';
import type { Locale } from '../core/message.js';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import { channelIdentities, conversations, customers, messages, webchatSessions } from '../db/schema.js';
import { DEMO_SENIOR_CUSTOMER_ID } from '../db/seed.js';
import type { ReceiveResult } from '../inbox/receive.js';
import type { InboundMessageInput } from '../core/message.js';
import type { LiveHub } from '../inbox/live-hub.js';
import type { AppEnv } from './app.js';
import { parseJson } from './errors.js';
import { StreamWaker } from '../inbox/stream-waker.js';

export interface WebchatDeps {
  db: Db;
  clock: Clock;
  hub: LiveHub;
  demoMode: boolean;
  identitySecret: string | undefined;
  /** Stores a message durably and schedules the bot; resolves once it is stored. */
  receive(inbound: InboundMessageInput): Promise<ReceiveResult>;
  sessionTtlMs?: number;
  /**
   * How long a verified session token is remembered in memory, saving a database read per request
   * (default 5 s). A session removed from the database stays usable on this instance that long.
   */
  sessionCacheMs?: number;
}

interface Session {
  id: string;
  expiresAt: Date;
  channelIdentityId: string;
  externalId: string;
  customerId: string;
  displayName: string | null;
  locale: Locale | null;
}

const HISTORY_LIMIT = 200;
const Cursor = z.coerce.number().int().nonnegative();

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** The quick-reply id of the flows' "menu" button (flows/global.yaml `menuOption.id`). */
const OPEN_CHOICE = 'menu';

/** The web chat JSON API: sessions, messages (send + history) and a live SSE stream. */
export function webchatRoutes(deps: WebchatDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const ttl = deps.sessionTtlMs ?? 30 * 24 * 3600_000;
  const authenticate = cachedAuthenticate(deps);

  // Demo mode only: the customers a visitor may chat as, for the picker on the demo page.
  app.get('/demo-customers', async (c) => {
    if (!deps.demoMode) throw new AppError('not_found', 'Demo customers are available in demo mode only');
    const rows = await deps.db
      .select({
        id: customers.id,
        name: customers.name,
        locale: customers.locale,
        birthYear: customers.birthYear,
        firstTimeUser: customers.firstTimeUser,
      })
      .from(customers)
      .where(eq(customers.guest, false))
      // The demo's featured senior first-time user leads the picker.
      .orderBy(
        desc(sql`${customers.id} = ${DEMO_SENIOR_CUSTOMER_ID}`),
        desc(customers.firstTimeUser),
        asc(customers.createdAt),
        asc(customers.phone),
      )
      .limit(50);
    return c.json({ customers: rows });
  });

  app.post('/sessions', async (c) => {
    const body = await parseJson(c, SessionRequest);
    let customerId: string | null = null;
    if (body.customerId !== undefined) {
      if (deps.identitySecret) {
        if (!body.signature || !verifyCustomerSignature(body.customerId, body.signature, deps.identitySecret)) {
          throw new AppError('unauthorized', 'signature does not match customerId');
        }
      } else if (!deps.demoMode) {
        throw new AppError('bad_request', 'customerId needs WEBCHAT_IDENTITY_SECRET to be configured on the server');
      }
      const [customer] = z.uuid().safeParse(body.customerId).success
        ? await deps.db.select({ id: customers.id }).from(customers).where(eq(customers.id, body.customerId)).limit(1)
        : [];
      if (!customer) throw new AppError('not_found', `customer ${body.customerId} not found`);
      customerId = customer.id;
    }
    const now = deps.clock.now();
    const externalId = webchatExternalId({ customerId, visitorId: randomUUID() });
    let opened = false;
    const identityId = await deps.db.transaction(async (tx) => {
      const [existing] = await tx
        .select({ id: channelIdentities.id })
        .from(channelIdentities)
        .where(and(eq(channelIdentities.channel, 'webchat'), eq(channelIdentities.externalId, externalId)))
        .limit(1);
      if (existing) return existing.id;
      opened = true;
      const owner =
        customerId ??
        (await tx.insert(customers).values({ guest: true, locale: body.locale ?? 'zh-Hans' }).returning({ id: customers.id }))[0]?.id;
      if (!owner) throw new Error('guest insert returned no row');
      const [identity] = await tx
        .insert(channelIdentities)
        .values({ customerId: owner, channel: 'webchat', externalId, lastSeenAt: now })
        .onConflictDoUpdate({ target: [channelIdentities.channel, channelIdentities.externalId], set: { lastSeenAt: now } })
        .returning({ id: channelIdentities.id });
      if (!identity) throw new Error('identity insert returned no row');
      return identity.id;
    });
    const token = `wc_${randomBytes(32).toString('base64url')}`;
    const [session] = await deps.db
      .insert(webchatSessions)
      .values({
        tokenHash: hashToken(token),
        channelIdentityId: identityId,
        locale: body.locale ?? null,
        createdAt: now,
        expiresAt: new Date(now.getTime() + ttl),
      })
      .returning({ id: webchatSessions.id });
    if (!session) throw new Error('session insert returned no row');
    // A new chat opens with the greeting and the main menu, before the consumer types anything:
    // an empty message pressing the flows' "menu" button (global.yaml menuOption), which the page does not show.
    if (opened) {
      await deps.receive({
        channel: 'webchat',
        externalMessageId: `${externalId}/open`,
        sender: { externalId, customerId, displayName: null },
        text: '',
        choice: OPEN_CHOICE,
        locale: body.locale ?? null,
      });
    }
    return c.json({ sessionId: session.id, token }, 201);
  });

  app.post('/messages', async (c) => {
    const session = await authenticate(c);
    const body = await parseJson(c, MessageRequest);
    const choiceLabel = body.choice === undefined ? null : await findChoiceLabel(deps.db, session, body.choice);
    const result = await deps.receive(toInbound(session, body, choiceLabel, session.locale));
    return c.json({ messageId: result.messageId, duplicate: result.duplicate }, 202);
  });

  app.get('/messages', async (c) => {
    const session = await authenticate(c);
    const after = parseCursor(c.req.query('after'));
    const page = await history(deps.db, session, after);
    return c.json({ messages: page.messages.map(publicMessage), cursor: String(page.cursor) });
  });

  app.get('/events', async (c) => {
    const session = await authenticate(c);
    let cursor = parseCursor(c.req.header('last-event-id') ?? c.req.query('after'));
    return streamSSE(c, async (stream) => {
      const waker = new StreamWaker();
      let pending = true; // send the backlog first
      // While a reply is still being delivered the cursor stays before it, so pages can repeat
      // messages this stream already wrote: remember them until the cursor has passed them.
      const written = new Map<string, number>();
      const unsubscribe = deps.hub.subscribe((event) => {
        if (event.channelIdentityId !== session.channelIdentityId) return;
        pending = true;
        waker.wake();
      });
      stream.onAbort(() => {
        unsubscribe();
        waker.wake();
      });
      try {
        while (!stream.aborted) {
          if (pending) {
            pending = false;
            const page = await history(deps.db, session, cursor);
            for (const message of page.messages) {
              if (written.has(message.id)) continue;
              written.set(message.id, message.seq);
              // The event id is where a reconnect resumes: never past an undelivered reply.
              const id = String(Math.min(message.seq, page.cursor));
              await stream.writeSSE({ id, event: 'message', data: JSON.stringify(publicMessage(message)) });
            }
            const advanced = page.cursor > cursor;
            cursor = page.cursor;
            for (const [id, seq] of written) if (seq <= cursor) written.delete(id);
            if (page.messages.length === HISTORY_LIMIT && advanced) pending = true;
            continue;
          }
          // Sleep until an event arrives or 25 s pass (then send a keep-alive comment).
          await waker.sleep(stream);
        }
      } finally {
        unsubscribe();
      }
    }, async (err, stream) => {
      // Hono would print to the console. A stream whose client left (or a service stopping) needs
      // no report; otherwise log it, and the client reconnects from its last event id.
      if (!stream.aborted) c.get('log')?.warn({ err }, 'webchat.stream_failed');
    });
  });

  return app;
}

function parseCursor(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  const parsed = Cursor.safeParse(raw);
  if (!parsed.success) throw new AppError('bad_request', 'after must be a cursor returned by this API');
  return parsed.data;
}

const SESSION_CACHE_MAX = 10_000;

/** `authenticate` with a short in-memory memo of verified tokens (by hash, never past expiry). */
function cachedAuthenticate(deps: WebchatDeps): (c: Context) => Promise<Session> {
  const cacheMs = deps.sessionCacheMs ?? 5000;
  const cache = new Map<string, { session: Session; until: number }>();
  return async (c) => {
    const token = bearerToken(c);
    const key = hashToken(token);
    const now = deps.clock.now().getTime();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.session;
    if (hit) cache.delete(key);
    const session = await authenticate(deps, key);
    if (cacheMs > 0) {
      if (cache.size >= SESSION_CACHE_MAX) {
        const oldest = cache.keys().next();
        if (!oldest.done) cache.delete(oldest.value);
      }
      cache.set(key, { session, until: Math.min(now + cacheMs, session.expiresAt.getTime()) });
    }
    return session;
  };
}

function bearerToken(c: Context): string {
  const header = c.req.header('authorization');
  // EventSource cannot send headers, so the stream also accepts ?token=.
  const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : c.req.query('token');
  if (!token) throw new AppError('unauthorized', 'Missing session token (Authorization: Bearer <token>)');
  return token;
}

async function authenticate(deps: WebchatDeps, tokenHash: string): Promise<Session> {
  const [row] = await deps.db
    .select({
      id: webchatSessions.id,
      expiresAt: webchatSessions.expiresAt,
      locale: webchatSessions.locale,
      channelIdentityId: channelIdentities.id,
      externalId: channelIdentities.externalId,
      customerId: channelIdentities.customerId,
      displayName: channelIdentities.displayName,
    })
    .from(webchatSessions)
    .innerJoin(channelIdentities, eq(channelIdentities.id, webchatSessions.channelIdentityId))
    .where(eq(webchatSessions.tokenHash, tokenHash))
    .limit(1);
  if (!row || row.expiresAt <= deps.clock.now()) throw new AppError('unauthorized', 'Session token is invalid or expired');
  return row;
}

/** The label of a quick reply the bot offered most recently, to keep the transcript readable. */
async function findChoiceLabel(db: Db, session: Session, choice: string): Promise<string | null> {
  const [last] = await db
    .select({ quickReplies: messages.quickReplies })
    .from(messages)
    .innerJoin(conversations, eq(conversations.id, messages.conversationId))
    .where(and(eq(conversations.channelIdentityId, session.channelIdentityId), isNotNull(messages.quickReplies)))
    .orderBy(desc(messages.seq))
    .limit(1);
  return last?.quickReplies?.find((q) => q.id === choice)?.label ?? null;
}

type HistoryRow = Awaited<ReturnType<typeof historyRows>>[number];

function historyRows(db: Db, session: Session, after: number) {
  return db
    .select({
      id: messages.id,
      seq: messages.seq,
      author: messages.author,
      text: messages.text,
      quickReplies: messages.quickReplies,
      createdAt: messages.createdAt,
    })
    .from(messages)
    .where(
      and(
        inArray(messages.conversationId, identityConversations(db, session)),
        gt(messages.seq, after),
        ne(messages.direction, 'internal'),
        // Outgoing messages appear once the outbox delivered them; the empty message that opened the chat never.
        or(and(eq(messages.direction, 'in'), ne(messages.text, '')), eq(messages.deliveryStatus, 'sent')),
      ),
    )
    .orderBy(asc(messages.seq))
    .limit(HISTORY_LIMIT);
}

/**
 * A page of history and the cursor to continue from. Outgoing messages become visible only once
 * delivered, which can be after later messages were shown; so the cursor never passes a reply
 * still pending delivery (the next page may repeat messages after it: clients dedupe by id).
 */
async function history(db: Db, session: Session, after: number) {
  // Undelivered first: a reply delivered between the two reads is then still in `rows`.
  const undelivered = await firstUndelivered(db, session, after);
  const rows = await historyRows(db, session, after);
  const last = rows.at(-1);
  const end = last ? last.seq : after;
  return { messages: rows, cursor: undelivered === null ? end : Math.max(after, Math.min(end, undelivered - 1)) };
}

async function firstUndelivered(db: Db, session: Session, after: number): Promise<number | null> {
  const [row] = await db
    .select({ seq: min(messages.seq) })
    .from(messages)
    .where(
      and(
        inArray(messages.conversationId, identityConversations(db, session)),
        gt(messages.seq, after),
        eq(messages.direction, 'out'),
        eq(messages.deliveryStatus, 'pending'),
      ),
    );
  return row?.seq === null || row?.seq === undefined ? null : Number(row.seq);
}

function identityConversations(db: Db, session: Session) {
  return db.select({ id: conversations.id }).from(conversations).where(eq(conversations.channelIdentityId, session.channelIdentityId));
}

function publicMessage(m: HistoryRow) {
  return {
    id: m.id,
    author: m.author,
    text: m.text,
    ...(m.quickReplies && m.quickReplies.length > 0 ? { quickReplies: m.quickReplies } : {}),
    createdAt: m.createdAt.toISOString(),
  };
}

