import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { AcceptFile, AcceptedFile } from '../../src/core/sniff.js';
import { sniffUpload } from './attachments.js';
import {
  ClientMessageId,
  LocaleRequest,
  MessageRequest,
  SessionRequest,
  toInbound,
  verifyCustomerSignature,
  webchatExternalId,
} from './index.js';
import type { ChannelLog, LiveEvents, ReceiveInbound } from '../../src/core/channel-module.js';
import { AppError } from '../../src/core/errors.js';
import type { IdentityLevel } from '../../src/core/identity.js';
import type { Clock } from '../../src/core/ports.js';
import type { Locale } from '../../src/core/message.js';
import { parseJson } from '../../src/core/request.js';
import { StreamWaker } from '../../src/core/stream-waker.js';
import type { WebchatHistoryMessage, WebchatSession, WebchatStore } from '../../src/core/webchat-store.js';

export interface WebchatDeps {
  store: WebchatStore;
  clock: Clock;
  /** Tells the live stream which identities have new messages. */
  live: LiveEvents;
  demoMode: boolean;
  identitySecret: string | undefined;
  /** Stores a message durably and schedules the bot; resolves once it is stored. */
  receive: ReceiveInbound;
  sessionTtlMs?: number;
  /**
   * How long a verified session token is remembered in memory, saving a database read per request
   * (default 5 s). A session removed from the database stays usable on this instance that long.
   */
  sessionCacheMs?: number;
  /** Host page origins allowed to call this API from the embedded widget (`*` for any). */
  allowedOrigins?: string[];
  /** Largest upload accepted (default 10 MB). */
  maxAttachmentBytes?: number;
  /** Judges an upload by its bytes and converts HEIC photos to JPEG; without it HEIC is refused. */
  acceptFile?: AcceptFile;
  /** The page's and widget's labels per locale (locales/<l>/webchat.yaml). */
  labels?: Record<Locale, Record<string, string>>;
}

/** The upload route; it reads its own (larger) body, so the app's JSON limit must skip it. */
export const ATTACHMENTS_PATH = '/api/webchat/attachments';
export const DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

type Session = WebchatSession;

/** The request-scoped logger the app sets (with the request id). */
interface WebchatEnv {
  Variables: { log?: ChannelLog };
}

const HISTORY_LIMIT = 200;
const Cursor = z.coerce.number().int().nonnegative();

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** The quick-reply id of the flows' "menu" button (flows/global.yaml `menuOption.id`). */
const OPEN_CHOICE = 'menu';

/** The web chat JSON API: sessions, messages (send + history) and a live SSE stream. */
export function webchatRoutes(deps: WebchatDeps): Hono<WebchatEnv> {
  const app = new Hono<WebchatEnv>();
  const ttl = deps.sessionTtlMs ?? 30 * 24 * 3600_000;
  const authenticate = cachedAuthenticate(deps);
  const streams = new StreamsByIdentity(deps.live);
  const maxBytes = deps.maxAttachmentBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES;
  const allowed = deps.allowedOrigins ?? [];
  const accept: AcceptFile = deps.acceptFile ?? (async (bytes) => sniffOnly(bytes, maxBytes));

  // The widget runs on other sites' pages: they may call this API when listed. Sessions use a
  // Bearer token (no cookies), so a cross-origin call carries no ambient authority.
  const crossOrigin = cors({
    origin: (origin) => (allowed.includes('*') || allowed.includes(origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['content-type', 'authorization', 'last-event-id', 'x-client-message-id', 'x-file-name'],
    maxAge: 600,
  });
  app.use('*', async (c, next) => {
    if (c.req.method === 'OPTIONS' || c.req.header('origin') !== undefined) return crossOrigin(c, next);
    // No Origin: nothing for CORS to allow, but caches must still keep answers apart by Origin.
    // Set before the answer exists: hono's cors appends it afterwards, which turns the server's
    // light response into a full web Response (4 % of a message flood's CPU).
    c.header('Vary', 'Origin');
    await next();
  });

  // Labels and limits the page and widget need before anything else (public, cacheable).
  app.get('/labels', (c) => {
    c.header('cache-control', 'public, max-age=300');
    return c.json({ locales: deps.labels ?? {}, maxAttachmentBytes: maxBytes, demoMode: deps.demoMode });
  });

  // Demo mode only: the customers a visitor may chat as, for the picker on the demo page.
  app.get('/demo-customers', async (c) => {
    if (!deps.demoMode) throw new AppError('not_found', 'Demo customers are available in demo mode only');
    const rows = await deps.store.demoCustomers(50);
    return c.json({ customers: rows });
  });

  app.post('/sessions', async (c) => {
    const body = await parseJson(c, SessionRequest);
    let customerId: string | null = null;
    let identityLevel: IdentityLevel = 'anonymous';
    if (body.customerId !== undefined) {
      if (deps.identitySecret) {
        if (!body.signature || !verifyCustomerSignature(body.customerId, body.signature, deps.identitySecret)) {
          throw new AppError('unauthorized', 'signature does not match customerId');
        }
      } else if (!deps.demoMode) {
        throw new AppError('bad_request', 'customerId needs WEBCHAT_IDENTITY_SECRET to be configured on the server');
      } else if (!(await deps.store.demoCustomers(50)).some((d) => d.id === body.customerId)) {
        // Unsigned, only the demo page's own customers: never a guest's or anyone else's conversations.
        throw new AppError('forbidden', 'Without a signature only the demo customers can be opened');
      }
      const customer = z.uuid().safeParse(body.customerId).success ? await deps.store.findCustomer(body.customerId) : null;
      if (!customer) throw new AppError('not_found', `customer ${body.customerId} not found`);
      customerId = customer.id;
      // Signed by the host app: proven. Demo mode without a secret: proven only for the seeded demo
      // customers (not guests, who were made from an unproven channel identity).
      identityLevel = deps.identitySecret || !customer.guest ? 'proven' : 'claimed';
    }
    const now = deps.clock.now();
    const externalId = webchatExternalId({ customerId, visitorId: randomUUID() });
    const token = `wc_${randomBytes(32).toString('base64url')}`;
    const session = await deps.store.createSession({
      customerId,
      externalId,
      locale: body.locale ?? null,
      identityLevel,
      tokenHash: hashToken(token),
      now,
      expiresAt: new Date(now.getTime() + ttl),
    });
    // A new chat opens with the greeting and the main menu, before the consumer types anything:
    // an empty message pressing the flows' "menu" button (global.yaml menuOption), which the page does not show.
    if (session.opened) {
      await deps.receive({
        channel: 'webchat',
        externalMessageId: `${externalId}/open`,
        sender: { externalId, customerId, displayName: null },
        text: '',
        choice: OPEN_CHOICE,
        locale: body.locale ?? null,
        identity: { level: identityLevel, basis: identityLevel === 'proven' ? 'signed_session' : null },
      });
    }
    return c.json({ sessionId: session.sessionId, token }, 201);
  });

  // What the page shows about its session: the conversation's language (it follows "English
  // please") and whether to start in senior mode.
  app.get('/session', async (c) => {
    const session = await authenticate(c);
    const locale = (await deps.store.conversationLocale(session.channelIdentityId)) ?? session.locale;
    return c.json({ locale, firstTimeUser: session.firstTimeUser });
  });

  app.post('/locale', async (c) => {
    const session = await authenticate(c);
    const body = await parseJson(c, LocaleRequest);
    await deps.store.setLocale(session.id, session.channelIdentityId, body.locale);
    return c.json({ locale: body.locale });
  });

  app.post(
    '/attachments',
    bodyLimit({
      maxSize: maxBytes,
      onError: () => {
        throw tooLarge(maxBytes);
      },
    }),
    async (c) => {
      const session = await authenticate(c);
      const clientMessageId = ClientMessageId.safeParse(c.req.header('x-client-message-id'));
      if (!clientMessageId.success) throw new AppError('bad_request', 'x-client-message-id header is required (letters, digits, _ . : -)');
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      if (bytes.length === 0) throw new AppError('bad_request', 'The file is empty');
      if (bytes.length > maxBytes) throw tooLarge(maxBytes);
      const accepted = await accept(bytes);
      if (!accepted.ok && accepted.reason === 'too_big') throw tooLarge(maxBytes);
      if (!accepted.ok && accepted.reason === 'heic') {
        throw new AppError('unsupported_media_type', 'This HEIC photo could not be read; send a JPEG or PNG', { reason: 'heic' });
      }
      if (!accepted.ok) {
        throw new AppError('unsupported_media_type', 'Only JPEG, PNG or HEIC photos and PDF files can be sent', { reason: 'type' });
      }
      const sniffed = accepted;
      const given = fileName(c.req.header('x-file-name'));
      // A converted iPhone photo is a JPEG now, and is named like one.
      const filename = given && accepted.converted ? `${given.replace(/\.(heic|heif)$/i, '')}.jpg` : given;
      const upload = accepted.bytes;
      const stored = await deps.store.saveAttachment({
        channelIdentityId: session.channelIdentityId,
        uploadKey: clientMessageId.data,
        contentType: sniffed.contentType,
        filename,
        size: upload.length,
        bytes: upload,
        now: deps.clock.now(),
      });
      const inbound = toInbound(session, { clientMessageId: clientMessageId.data, text: filename ?? '' }, null, session.locale);
      const result = await deps.receive({
        ...inbound,
        text: '',
        attachments: [
          { kind: sniffed.kind, filename, contentType: sniffed.contentType, size: upload.length, ref: stored.id, inline: false },
        ],
      });
      c.get('log')?.info({ size: upload.length, contentType: sniffed.contentType, converted: accepted.converted }, 'webchat.attachment_stored');
      return c.json({ messageId: result.messageId, duplicate: result.duplicate, attachmentId: stored.id }, 202);
    },
  );

  // A stored file, to the session that sent it only (staff read it through the console).
  app.get('/attachments/:id', async (c) => {
    const session = await authenticate(c);
    const id = c.req.param('id');
    const file = z.uuid().safeParse(id).success ? await deps.store.findAttachment(id) : null;
    if (!file) throw new AppError('not_found', 'No such file');
    if (file.channelIdentityId !== session.channelIdentityId) throw new AppError('forbidden', 'This file belongs to another conversation');
    return new Response(Buffer.from(file.bytes), {
      headers: {
        'content-type': file.contentType,
        'content-length': String(file.size),
        'x-content-type-options': 'nosniff',
        'cache-control': 'private, max-age=3600',
        'content-disposition': 'inline',
      },
    });
  });

  app.post('/messages', async (c) => {
    const session = await authenticate(c);
    const body = await parseJson(c, MessageRequest);
    const choiceLabel = body.choice === undefined ? null : await deps.store.lastChoiceLabel(session.channelIdentityId, body.choice);
    const result = await deps.receive(toInbound(session, body, choiceLabel, session.locale, session.identityLevel));
    return c.json({ messageId: result.messageId, duplicate: result.duplicate }, 202);
  });

  app.get('/messages', async (c) => {
    const session = await authenticate(c);
    const after = parseCursor(c.req.query('after'));
    const page = await deps.store.history(session.channelIdentityId, after, HISTORY_LIMIT);
    return c.json({
      messages: page.messages.map(publicMessage),
      cursor: String(page.cursor),
      locale: page.locale ?? session.locale,
      agentSeenAt: page.agentSeenAt?.toISOString() ?? null,
    });
  });

  app.get('/events', async (c) => {
    const session = await authenticate(c);
    let cursor = parseCursor(c.req.header('last-event-id') ?? c.req.query('after'));
    return streamSSE(c, async (stream) => {
      const waker = new StreamWaker();
      let pending = true; // send the backlog first
      let sentLocale: Locale | null = null;
      let sentSeen: string | null = null;
      // While a reply is still being delivered the cursor stays before it, so pages can repeat
      // messages this stream already wrote: remember them until the cursor has passed them.
      const written = new Map<string, number>();
      const unsubscribe = streams.subscribe(session.channelIdentityId, () => {
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
            const page = await deps.store.history(session.channelIdentityId, cursor, HISTORY_LIMIT);
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
            // The conversation's language: when the consumer says "English please" the labels follow.
            const locale = page.locale ?? session.locale;
            if (locale && locale !== sentLocale) {
              sentLocale = locale;
              await stream.writeSSE({ event: 'locale', data: JSON.stringify({ locale }) });
            }
            // An agent opened the case: the customer's messages up to then are "seen by a support agent".
            const seenAt = page.agentSeenAt?.toISOString() ?? null;
            if (seenAt && seenAt !== sentSeen) {
              sentSeen = seenAt;
              await stream.writeSSE({ event: 'seen', data: JSON.stringify({ agentSeenAt: seenAt }) });
            }
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

/**
 * Open live streams by the identity they follow: one subscription to the live events for all of
 * them, and an event wakes only its own identity's streams (thousands of idle streams cost a map
 * lookup per event, not a call each).
 */
class StreamsByIdentity {
  private readonly byIdentity = new Map<string, Set<() => void>>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly live: LiveEvents) {}

  subscribe(channelIdentityId: string, wake: () => void): () => void {
    this.unsubscribe ??= this.live.subscribe((event) => {
      if (!event.channelIdentityId) return;
      for (const fn of this.byIdentity.get(event.channelIdentityId) ?? []) fn();
    });
    let set = this.byIdentity.get(channelIdentityId);
    if (!set) this.byIdentity.set(channelIdentityId, (set = new Set()));
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0 && this.byIdentity.get(channelIdentityId) === set) this.byIdentity.delete(channelIdentityId);
    };
  }
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
  // EventSource cannot send headers, so the event stream (and only it: a token in a URL ends up
  // in logs and Referer headers) also accepts ?token=.
  const fromQuery = c.req.method === 'GET' && c.req.path.endsWith('/events') ? c.req.query('token') : undefined;
  const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : fromQuery;
  if (!token) throw new AppError('unauthorized', 'Missing session token (Authorization: Bearer <token>)');
  return token;
}

async function authenticate(deps: WebchatDeps, tokenHash: string): Promise<Session> {
  const row = await deps.store.findSession(tokenHash);
  if (!row || row.expiresAt <= deps.clock.now()) throw new AppError('unauthorized', 'Session token is invalid or expired');
  return row;
}

function publicMessage(m: WebchatHistoryMessage) {
  return {
    id: m.id,
    author: m.author,
    text: m.text,
    ...(m.quickReplies && m.quickReplies.length > 0 ? { quickReplies: m.quickReplies } : {}),
    ...(m.attachments.length > 0 ? { attachments: m.attachments.map(publicAttachment) } : {}),
    createdAt: m.createdAt.toISOString(),
  };
}


/** What the consumer's page may know of an attachment: its stored id (for /attachments/:id), kind, name, size. */
function publicAttachment(a: Record<string, unknown>) {
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return { id: str(a.ref), kind: str(a.kind), filename: str(a.filename), contentType: str(a.contentType), size: typeof a.size === 'number' ? a.size : null };
}

function tooLarge(maxBytes: number): AppError {
  return new AppError('payload_too_large', `The file is larger than ${Math.round(maxBytes / 1048576)} MB`, { maxBytes });
}

/** The file name the browser sent (URI-encoded header), trimmed; null when absent or unreadable. */
function fileName(raw: string | undefined): string | null {
  if (!raw) return null;
  try {
    const name = decodeURIComponent(raw).replace(/[\u0000-\u001f/\\]/g, '').trim();
    return name === '' ? null : name.slice(0, 200);
  } catch {
    return null;
  }
}

/** Without a converter: JPEG, PNG and PDF by their first bytes; HEIC and everything else refused. */
function sniffOnly(bytes: Uint8Array, maxBytes: number): AcceptedFile {
  if (bytes.length > maxBytes) return { ok: false, reason: 'too_big' };
  const sniffed = sniffUpload(bytes);
  if (sniffed.kind === 'heic') return { ok: false, reason: 'heic' };
  if (sniffed.kind === 'unknown') return { ok: false, reason: 'type' };
  return { ok: true, ...sniffed, bytes, converted: false };
}
