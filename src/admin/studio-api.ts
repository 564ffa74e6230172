import { asc, eq, inArray } from 'drizzle-orm';
import { Hono } from 'hono';
import { deleteCookie } from 'hono/cookie';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import { Intent } from '../core/intent.js';
import { Locale } from '../core/message.js';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import { agentSessions, customers } from '../db/schema.js';
import { type AuthDeps, type ConsoleEnv, requireRole, SESSION_COOKIE } from '../console/auth.js';
import { parseJson, validationError } from '../http/errors.js';
import { DocumentId } from '../studio/documents.js';
import { addLexiconPhrase, setWording, stepWordings } from '../studio/edit.js';
import { notUnderstood } from '../studio/not-understood.js';
import { DEMO_TRANSCRIPT_CUSTOMERS } from '../studio/sandbox.js';
import type { Studio } from '../studio/studio.js';

export interface StudioApiDeps {
  studio: Studio;
  db: Db;
  clock: Clock;
  sessionTtlMs: number;
}

/** Who may use the studio at all: editors draft and test, admins also publish and roll back. */
export const STUDIO_ROLES = ['editor', 'admin'] as const;

const Content = z.string().max(500_000);
export const SaveDraftRequest = z.strictObject({ id: DocumentId, content: Content, comment: z.string().max(500).default('') });
export const ValidateRequest = z.strictObject({ id: DocumentId, content: Content });
export const WordingRequest = z.strictObject({
  id: DocumentId,
  path: z.array(z.union([z.string().max(100), z.number().int().min(0)])).min(1).max(8),
  texts: z.strictObject({ 'zh-Hans': z.string().min(1).max(2000).optional(), 'zh-Hant': z.string().min(1).max(2000).optional(), en: z.string().min(1).max(2000).optional() }),
  comment: z.string().max(500).default(''),
});
export const PublishRequest = z.strictObject({
  documents: z.array(DocumentId).min(1).max(200),
  comment: z.string().max(500).default(''),
  confirmLowerAccuracy: z.boolean().default(false),
});
export const CheckRequest = z.strictObject({ documents: z.array(DocumentId).min(1).max(200) });
export const RollbackRequest = z.strictObject({ id: DocumentId, to: z.string().min(1).max(64), comment: z.string().max(500).default('') });
export const NameRequest = z.strictObject({ name: z.string().trim().max(100).nullable() });
export const SimulateRequest = z.strictObject({
  customerId: z.uuid(),
  locale: Locale,
  turns: z.array(z.strictObject({ text: z.string().max(2000), choice: z.string().max(100).nullable().default(null) })).max(60),
});
export const LabelRequest = z.strictObject({ text: z.string().trim().min(1).max(2000), intent: Intent, lang: z.string().max(10).default('zh-Hans') });
export const PhraseRequest = z.strictObject({ intent: Intent, locale: Locale, phrase: z.string().trim().min(1).max(200) });

/** `/api/admin/studio/*`: the studio's JSON API, which its pages use. Mount at `/api/admin/studio`. */
export function studioApiRoutes(deps: StudioApiDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const auth: AuthDeps = { db: deps.db, clock: deps.clock, sessionTtlMs: deps.sessionTtlMs };
  const { studio } = deps;
  app.use('*', requireRole(auth, STUDIO_ROLES));
  const idOf = (raw: string | undefined) => {
    const parsed = DocumentId.safeParse(raw);
    if (!parsed.success) throw validationError(parsed.error, 'id');
    return parsed.data;
  };

  app.get('/me', (c) => c.json({ agent: c.get('actor') }));
  app.post('/logout', async (c) => {
    await deps.db.delete(agentSessions).where(eq(agentSessions.tokenHash, c.get('sessionHash')));
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.json({ ok: true });
  });

  app.get('/documents', async (c) => c.json({ documents: await studio.list() }));
  app.get('/document', async (c) => c.json(await studio.document(idOf(c.req.query('id')))));
  app.get('/diff', async (c) => c.json(await studio.diff(idOf(c.req.query('id')), c.req.query('from') ?? 'published', c.req.query('to') ?? 'draft')));
  app.post('/validate', async (c) => {
    const body = await parseJson(c, ValidateRequest);
    return c.json(await studio.validate(body.id, body.content));
  });
  app.put('/draft', async (c) => {
    const body = await parseJson(c, SaveDraftRequest);
    const saved = await studio.saveDraft(c.get('actor'), body.id, body.content, body.comment);
    return c.json(saved, 201);
  });
  app.delete('/draft', async (c) => {
    await studio.discardDraft(c.get('actor'), idOf(c.req.query('id')));
    return c.json({ ok: true });
  });
  app.get('/wording', async (c) => {
    const doc = await studio.document(idOf(c.req.query('id')));
    return c.json({ id: doc.id, wordings: stepWordings(doc.content) });
  });
  app.put('/wording', async (c) => {
    const body = await parseJson(c, WordingRequest);
    const doc = await studio.document(body.id);
    const content = setWording(doc.content, body.path, body.texts);
    return c.json(await studio.saveDraft(c.get('actor'), body.id, content, body.comment || `wording ${body.path.join('.')}`), 201);
  });
  app.post('/versions/:versionId/name', async (c) => {
    const versionId = z.uuid().safeParse(c.req.param('versionId'));
    if (!versionId.success) throw validationError(versionId.error, 'version id');
    const body = await parseJson(c, NameRequest);
    await studio.nameVersion(c.get('actor'), versionId.data, body.name || null);
    return c.json({ ok: true });
  });
  app.post('/check', async (c) => {
    const body = await parseJson(c, CheckRequest);
    return c.json(await studio.checkPublish(body.documents));
  });
  app.post('/publish', async (c) => {
    const body = await parseJson(c, PublishRequest);
    const check = await studio.publish(c.get('actor'), body);
    return c.json({ published: body.documents, transcripts: check.transcripts, lexicon: check.lexicon });
  });
  app.post('/rollback', async (c) => {
    const body = await parseJson(c, RollbackRequest);
    await studio.rollback(c.get('actor'), body.id, body.to, body.comment);
    return c.json({ ok: true });
  });
  app.get('/customers', async (c) => {
    const demo = Object.values(DEMO_TRANSCRIPT_CUSTOMERS);
    const rows = await deps.db
      .select({ id: customers.id, name: customers.name, locale: customers.locale })
      .from(customers)
      .where(inArray(customers.id, demo))
      .orderBy(asc(customers.name));
    const more = await deps.db
      .select({ id: customers.id, name: customers.name, locale: customers.locale })
      .from(customers)
      .where(eq(customers.guest, false))
      .orderBy(asc(customers.createdAt))
      .limit(10);
    const seen = new Set(rows.map((r) => r.id));
    return c.json({ customers: [...rows, ...more.filter((r) => !seen.has(r.id))] });
  });
  app.post('/simulate', async (c) => {
    const body = await parseJson(c, SimulateRequest);
    const [customer] = await deps.db.select({ id: customers.id }).from(customers).where(eq(customers.id, body.customerId));
    if (!customer) throw new AppError('not_found', 'No such customer');
    return c.json(await studio.simulate(body));
  });
  app.get('/not-understood', async (c) => {
    const days = z.coerce.number().int().min(1).max(365).catch(30).parse(c.req.query('days'));
    return c.json({ groups: await notUnderstood(deps.db, studio.liveGlobals(), deps.clock.now(), days) });
  });
  app.post('/labels', async (c) => {
    const body = await parseJson(c, LabelRequest);
    await studio.addLabel(c.get('actor'), body);
    return c.json({ ok: true }, 201);
  });
  app.post('/lexicon/phrase', async (c) => {
    const body = await parseJson(c, PhraseRequest);
    const doc = await studio.document('flows/intents.yaml');
    const content = addLexiconPhrase(doc.content, body.intent, body.locale, body.phrase);
    return c.json(await studio.saveDraft(c.get('actor'), doc.id, content, `phrase for ${body.intent}`), 201);
  });
  app.get('/lexicon/score', async (c) => c.json(await studio.scoreDraft()));
  return app;
}
