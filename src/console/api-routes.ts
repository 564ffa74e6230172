import { StreamWaker } from '../core/stream-waker.js';
import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { clientAddress } from '../http/client-address.js';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { RefundGateway } from '../actions/ports.js';
import { AppError } from '../core/errors.js';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import type { LiveHub } from '../inbox/live-hub.js';
import { parseJson, validationError } from '../http/errors.js';
import { type AuthDeps, type ConsoleEnv, LoginRequest, login, logout, MANAGERS, requireRole, SESSION_COOKIE, STAFF } from './auth.js';
import {
  acceptTransfer,
  addNote,
  type CaseResult,
  claimCase,
  decideRefund,
  escalateCase,
  reassignCase,
  replyToCase,
  ResolutionCode,
  resolveCase,
  transferCase,
  unwrap,
} from './cases.js';
import type { AttachmentStore } from '../attachments/store.js';
import { readAttachment } from './attachments.js';
import { markSeenByAgent } from './seen.js';
import { consoleMetrics, MetricsQuery } from './metrics.js';
import { caseDetail, notificationsFor, queue, QueueView, searchCases, staff } from './queries.js';
import type { HandoffMessages } from './wording.js';
import { customerFile, searchEverything, StartConversationRequest, startConversation } from './directory.js';
import { agentLocale, LOCALE_COOKIE, setAgentLocale } from './i18n.js';
import { createMacro, deleteMacro, listMacros, MacroInput, macrosForCase, updateMacro } from './macros.js';
import { Locale } from '../core/message.js';

export interface ConsoleDeps {
  db: Db;
  clock: Clock;
  hub: LiveHub;
  wording: HandoffMessages;
  sessionTtlMs: number;
  followupDays: number;
  complaintThreshold: number;
  /** Cookies get the Secure flag when the console is served over https. */
  secureCookies: boolean;
  /** Pays approved refunds (the same gateway the bot's refund.submit uses). */
  refundGateway: RefundGateway;
  /** Wakes the outbox worker after a reply was written. */
  kickOutbox(): void;
  /** The header a trusted reverse proxy puts the client address in (TRUST_PROXY), or null. */
  trustProxy?: string | null;
  /** Time zone of the dates the console shows (CONSOLE_TIME_ZONE). */
  timeZone: string;
  /** Where consumers' files are kept (PostgreSQL or S3). */
  files: AttachmentStore;
}

const Text = z.string().trim().min(1).max(8000);
export const ReplyRequest = z.object({ text: Text }).strict();
export const NoteRequest = z.object({ text: Text }).strict();
export const TransferRequest = z.object({ toAgentId: z.uuid(), note: Text.optional() }).strict();
export const ReassignRequest = z.object({ toAgentId: z.uuid() }).strict();
export const EscalateRequest = z.object({ note: Text }).strict();
export const ResolveRequest = z.object({ code: ResolutionCode, note: Text.optional() }).strict();
export const LocaleRequest = z.object({ locale: Locale }).strict();
export const RefundDecisionRequest = z.object({ decision: z.enum(['approve', 'deny']), reason: Text.optional() }).strict();


/** `/api/auth/*` and `/api/console/*`: the console's JSON API. Mount at `/api`. */
export function consoleApiRoutes(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const auth: AuthDeps = { db: deps.db, clock: deps.clock, sessionTtlMs: deps.sessionTtlMs };
  const staffOnly = requireRole(auth, STAFF);
  const managersOnly = requireRole(auth, MANAGERS);
  const now = () => deps.clock.now();

  const changed = async (result: CaseResult, wroteMessages = false) => {
    const done = unwrap(result);
    if (wroteMessages) deps.kickOutbox();
    await deps.hub.publish({ type: 'conversation', conversationId: done.conversationId });
    return done;
  };

  app.post('/auth/login', async (c) => {
    const body = await parseJson(c, LoginRequest);
    const session = await login(auth, body, clientAddress(c, deps.trustProxy));
    setCookie(c, SESSION_COOKIE, session.token, {
      httpOnly: true,
      sameSite: 'Lax',
      path: '/',
      secure: deps.secureCookies,
      expires: session.expiresAt,
    });
    return c.json({ token: session.token, expiresAt: session.expiresAt.toISOString(), agent: session.actor });
  });

  app.post('/auth/logout', staffOnly, async (c) => {
    await logout(auth, c.get('sessionHash'), c.get('actor'));
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.json({ ok: true });
  });

  app.get('/console/me', staffOnly, async (c) => c.json({ agent: c.get('actor'), locale: await agentLocale(deps.db, c.get('actor').id) }));

  // The console language is remembered on the agent row; the cookie carries it to the login page.
  app.post('/console/me/locale', staffOnly, async (c) => {
    const body = await parseJson(c, LocaleRequest);
    await setAgentLocale(deps.db, c.get('actor').id, body.locale);
    setCookie(c, LOCALE_COOKIE, body.locale, { path: '/console', sameSite: 'Lax', maxAge: 365 * 86_400, secure: deps.secureCookies });
    return c.json({ locale: body.locale });
  });

  app.get('/console/queue', staffOnly, async (c) => {
    const parsed = QueueView.safeParse(c.req.query('view') ?? 'waiting');
    if (!parsed.success) throw validationError(parsed.error, 'view');
    const actor = c.get('actor');
    if (parsed.data === 'escalated' && actor.role === 'agent') throw new AppError('forbidden', 'The escalated queue is for managers');
    const rows = await queue(deps.db, actor, parsed.data);
    return c.json({ view: parsed.data, now: now().toISOString(), cases: rows });
  });

  app.get('/console/conversations/:id', staffOnly, async (c) => {
    const id = z.uuid().safeParse(c.req.param('id'));
    const detail = id.success ? await caseDetail(deps.db, id.data, now()) : null;
    if (!detail) throw new AppError('not_found', 'No such conversation');
    await markSeenByAgent(deps, detail.case.id, now());
    return c.json(detail);
  });

  // Files consumers sent: staff only (consumers read their own through the web chat API).
  app.get('/console/attachments/:id', staffOnly, async (c) => {
    const id = z.uuid().safeParse(c.req.param('id'));
    const file = id.success ? await readAttachment(deps.files, id.data) : null;
    if (!file) throw new AppError('not_found', 'No such file');
    return new Response(Buffer.from(file.bytes), {
      headers: { 'content-type': file.contentType, 'x-content-type-options': 'nosniff', 'cache-control': 'private, max-age=3600' },
    });
  });

  const caseId = (raw: string) => {
    const id = z.uuid().safeParse(raw);
    if (!id.success) throw new AppError('not_found', 'No such conversation');
    return id.data;
  };

  app.post('/console/conversations/:id/claim', staffOnly, async (c) =>
    c.json(await changed(await claimCase(deps.db, c.get('actor'), caseId(c.req.param('id')), now()))),
  );
  app.post('/console/conversations/:id/reply', staffOnly, async (c) => {
    const body = await parseJson(c, ReplyRequest);
    return c.json(await changed(await replyToCase(deps.db, c.get('actor'), caseId(c.req.param('id')), body.text, now()), true), 201);
  });
  app.post('/console/conversations/:id/note', staffOnly, async (c) => {
    const body = await parseJson(c, NoteRequest);
    return c.json(await changed(await addNote(deps.db, c.get('actor'), caseId(c.req.param('id')), body.text, now())), 201);
  });
  app.post('/console/conversations/:id/transfer', staffOnly, async (c) => {
    const body = await parseJson(c, TransferRequest);
    const result = await transferCase(deps.db, c.get('actor'), caseId(c.req.param('id')), body.toAgentId, body.note ?? null, now());
    return c.json(await changed(result));
  });
  app.post('/console/conversations/:id/accept', staffOnly, async (c) =>
    c.json(await changed(await acceptTransfer(deps.db, c.get('actor'), caseId(c.req.param('id')), now()))),
  );
  app.post('/console/conversations/:id/reassign', managersOnly, async (c) => {
    const body = await parseJson(c, ReassignRequest);
    return c.json(await changed(await reassignCase(deps.db, c.get('actor'), caseId(c.req.param('id')), body.toAgentId, now())));
  });
  app.post('/console/conversations/:id/escalate', staffOnly, async (c) => {
    const body = await parseJson(c, EscalateRequest);
    return c.json(await changed(await escalateCase(deps.db, c.get('actor'), caseId(c.req.param('id')), body.note, now())));
  });
  app.post('/console/conversations/:id/resolve', staffOnly, async (c) => {
    const body = await parseJson(c, ResolveRequest);
    const result = await resolveCase(
      { db: deps.db, wording: deps.wording, followupDays: deps.followupDays },
      c.get('actor'),
      caseId(c.req.param('id')),
      { code: body.code, note: body.note ?? null },
      now(),
    );
    return c.json(await changed(result, true));
  });

  app.post('/console/refunds/:id/decision', staffOnly, async (c) => {
    const body = await parseJson(c, RefundDecisionRequest);
    const id = z.uuid().safeParse(c.req.param('id'));
    if (!id.success) throw new AppError('not_found', 'No such refund');
    return c.json(await changed(await decideRefund({ db: deps.db, gateway: deps.refundGateway }, c.get('actor'), id.data, body.decision, body.reason ?? null, now())));
  });

  app.get('/console/search', staffOnly, async (c) => {
    const q = z.string().max(100).safeParse(c.req.query('q') ?? '');
    if (!q.success) throw validationError(q.error, 'q');
    const [cases, everything] = await Promise.all([searchCases(deps.db, q.data), searchEverything(deps.db, q.data)]);
    return c.json({ ...everything, q: q.data, cases });
  });

  app.get('/console/macros', staffOnly, async (c) => c.json({ macros: await listMacros(deps.db, c.get('actor')) }));
  app.post('/console/macros', managersOnly, async (c) => {
    const body = await parseJson(c, MacroInput);
    return c.json(await createMacro(deps.db, c.get('actor'), body, now()), 201);
  });
  app.put('/console/macros/:id', managersOnly, async (c) => {
    const body = await parseJson(c, MacroInput);
    const id = z.uuid().safeParse(c.req.param('id'));
    const row = id.success ? await updateMacro(deps.db, c.get('actor'), id.data, body, now()) : null;
    if (!row) throw new AppError('not_found', 'No such canned reply');
    return c.json(row);
  });
  app.delete('/console/macros/:id', managersOnly, async (c) => {
    const id = z.uuid().safeParse(c.req.param('id'));
    if (!id.success || !(await deleteMacro(deps.db, c.get('actor'), id.data, now()))) throw new AppError('not_found', 'No such canned reply');
    return c.json({ ok: true });
  });
  app.get('/console/conversations/:id/macros', staffOnly, async (c) => {
    const id = z.uuid().safeParse(c.req.param('id'));
    const detail = id.success ? await caseDetail(deps.db, id.data, now()) : null;
    if (!detail) throw new AppError('not_found', 'No such conversation');
    return c.json({ macros: await macrosForCase(deps.db, c.get('actor'), detail) });
  });

  app.get('/console/customers/:id', staffOnly, async (c) => {
    const id = z.uuid().safeParse(c.req.param('id'));
    const file = id.success ? await customerFile(deps.db, id.data) : null;
    if (!file) throw new AppError('not_found', 'No such customer');
    return c.json(file);
  });

  app.post('/console/customers/:id/conversations', staffOnly, async (c) => {
    const body = await parseJson(c, StartConversationRequest);
    const id = z.uuid().safeParse(c.req.param('id'));
    if (!id.success) throw new AppError('not_found', 'No such customer');
    const started = await startConversation(deps.db, c.get('actor'), id.data, body.text, now());
    if (!started.ok) throw new AppError(started.code, started.message, started.conversationId ? { conversationId: started.conversationId } : undefined);
    deps.kickOutbox();
    await deps.hub.publish({ type: 'conversation', conversationId: started.conversationId });
    return c.json({ conversationId: started.conversationId, channel: started.channel }, 201);
  });

  app.get('/console/notifications', staffOnly, async (c) => c.json({ notifications: await notificationsFor(deps.db, c.get('actor')) }));

  app.get('/console/agents', staffOnly, async (c) => {
    const rows = await staff(deps.db);
    return c.json({ agents: rows.filter((a) => a.active).map(({ id, name, role }) => ({ id, name, role })) });
  });

  app.get('/console/metrics', managersOnly, async (c) => {
    const parsed = MetricsQuery.safeParse(c.req.query());
    if (!parsed.success) throw validationError(parsed.error, 'period');
    const period = periodOf(parsed.data, now());
    return c.json(await consoleMetrics(deps.db, period, now(), deps.complaintThreshold));
  });

  // Live updates: ids of changed conversations; the pages re-read what they show.
  app.get('/console/events', staffOnly, (c) =>
    streamSSE(c, async (stream) => {
      const queued: string[] = [];
      const waker = new StreamWaker();
      const unsubscribe = deps.hub.subscribe((event) => {
        queued.push(event.conversationId);
        waker.wake();
      });
      stream.onAbort(() => {
        unsubscribe();
        waker.wake();
      });
      try {
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ now: now().toISOString() }) });
        while (!stream.aborted) {
          const ids = [...new Set(queued.splice(0))];
          if (ids.length > 0) {
            await stream.writeSSE({ event: 'change', data: JSON.stringify({ conversationIds: ids }) });
            continue;
          }
          await waker.sleep(stream);
        }
      } finally {
        unsubscribe();
      }
    }),
  );

  return app;
}

/** A metrics period: the query's from/to, defaulting to the 30 days before now. */
export function periodOf(q: { from?: string | undefined; to?: string | undefined }, now: Date): { from: Date; to: Date } {
  const to = q.to ? new Date(q.to) : now;
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * 86_400_000);
  if (from >= to) throw new AppError('validation_failed', 'from must be before to');
  return { from, to };
}
