import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Context, Hono } from 'hono';
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { Locale } from '../core/message.js';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import { type AuthDeps, sessionActor } from '../console/auth.js';
import type { Actor } from '../console/cases.js';
import { loadCatalog } from '../i18n/catalog.js';
import { formatDateTime } from '../i18n/format.js';
import { DocumentId, kindOf, transcriptFlow } from '../studio/documents.js';
import { stepWordings } from '../studio/edit.js';
import { notUnderstood } from '../studio/not-understood.js';
import { Intent } from '../core/intent.js';
import type { Studio } from '../studio/studio.js';
import { STUDIO_ROLES } from './studio-api.js';

const CSS = readFileSync(join(import.meta.dirname, 'assets/studio.css'), 'utf8');
const JS = readFileSync(join(import.meta.dirname, 'assets/studio.js'), 'utf8');
const LOCALES = Locale.options;

type T = (key: string, vars?: Record<string, string | number>) => string;

function Layout(props: { t: T; lang: Locale; title: string; actor: Actor; active: string; data?: Record<string, unknown>; children: Child }) {
  const { t } = props;
  const nav: [string, string][] = [
    ['documents', '/admin/studio'],
    ['simulator', '/admin/studio/simulator'],
    ['notUnderstood', '/admin/studio/not-understood'],
    ['lexicon', '/admin/studio/lexicon'],
  ];
  return (
    <html lang={props.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>
          {props.title} · {t('title')}
        </title>
        <style>{raw(CSS)}</style>
      </head>
      <body data-role={props.actor.role} data-lang={props.lang}>
        <header class="top">
          <a class="brand" href="/admin/studio">
            {t('title')}
          </a>
          <nav>
            {nav.map(([key, href]) => (
              <a href={href} class={props.active === key ? 'on' : ''}>
                {t(`nav.${key}`)}
              </a>
            ))}
          </nav>
          <span class="spacer" />
          <span>
            {props.actor.name} <span class="badge">{props.actor.role}</span>
          </span>
          <button type="button" data-action="logout">
            {t('nav.logout')}
          </button>
        </header>
        <main>{props.children}</main>
        <div id="toast" role="status" />
        <script id="studio-data" type="application/json">
          {raw(JSON.stringify(props.data ?? {}).replace(/</g, '\\u003c'))}
        </script>
        <script>{raw(JS)}</script>
      </body>
    </html>
  );
}

/** The client-side wording the scripts need, in the page's language. */
function clientWording(t: T): Record<string, string> {
  const keys = ['editor.saved', 'editor.valid', 'editor.problems', 'editor.elsewhere', 'editor.line', 'editor.confirmLower', 'editor.published', 'editor.rolledBack', 'editor.namePrompt', 'notUnderstood.labelled', 'notUnderstood.phraseAdded', 'editor.options'];
  return Object.fromEntries(keys.map((k) => [k, t(k, { n: '{n}', before: '{before}', after: '{after}' })]));
}

/** `/admin/studio` pages: documents, the editor (YAML and form), the simulator, the not-understood list, the lexicon score. */
export function studioPages(deps: { studio: Studio; db: Db; clock: Clock; sessionTtlMs: number }): Hono {
  const app = new Hono();
  const auth: AuthDeps = { db: deps.db, clock: deps.clock, sessionTtlMs: deps.sessionTtlMs };
  const catalog = loadCatalog('studio');
  const { studio } = deps;

  const who = async (c: Context): Promise<{ actor: Actor; t: T; lang: Locale } | Response> => {
    const lang = Locale.catch('zh-Hans').parse(c.req.query('lang') ?? 'zh-Hans');
    const t = catalog.bind(lang);
    const session = await sessionActor(auth, c);
    if (!session) return c.redirect(`/console/login?next=${encodeURIComponent(c.req.path + (c.req.url.includes('?') ? `?${c.req.url.split('?')[1] ?? ''}` : ''))}`, 302);
    if (!(STUDIO_ROLES as readonly string[]).includes(session.actor.role)) return c.html(<p>{t('forbidden')}</p>, 403);
    return { actor: session.actor, t, lang };
  };
  const when = (at: Date | null, lang: Locale) => (at ? formatDateTime(lang, at) : '');

  app.get('/', async (c) => {
    const w = await who(c);
    if (w instanceof Response) return w;
    const { t, lang, actor } = w;
    const docs = await studio.list();
    const drafts = docs.filter((d) => d.state === 'draft').map((d) => d.id);
    return c.html(
      <Layout t={t} lang={lang} title={t('nav.documents')} actor={actor} active="documents" data={{ drafts, wording: clientWording(t) }}>
        <div class="page">
          <div class="row">
            <h1>{t('list.heading')}</h1>
            <span>
              <button type="button" data-action="check-all" disabled={drafts.length === 0}>
                {t('list.checkAll')}
              </button>{' '}
              {actor.role === 'admin' && (
                <button type="button" class="primary" data-action="publish-all" disabled={drafts.length === 0}>
                  {t('list.publishAll')} ({drafts.length})
                </button>
              )}
            </span>
          </div>
          <div id="result" class="result" />
          <table class="docs">
            <tr>
              <th>{t('list.document')}</th>
              <th>{t('list.kind')}</th>
              <th>{t('list.state')}</th>
              <th>{t('list.draft')}</th>
              <th>{t('list.published')}</th>
            </tr>
            {docs.map((d) => (
              <tr data-doc={d.id}>
                <td>
                  <a href={`/admin/studio/doc?id=${encodeURIComponent(d.id)}`}>{d.id}</a>
                </td>
                <td>{t(`kind.${d.kind}`)}</td>
                <td>
                  <span class={`badge state-${d.state}`}>{t(`state.${d.state}`)}</span>
                </td>
                <td>{d.draft ? t('list.byAt', { who: d.draft.author ?? '—', at: when(d.draft.at, lang) }) : t('list.none')}</td>
                <td>{d.published ? t('list.byAt', { who: d.published.by ?? '—', at: when(d.published.at, lang) }) : t('list.none')}</td>
              </tr>
            ))}
          </table>
        </div>
      </Layout>,
    );
  });

  app.get('/doc', async (c) => {
    const w = await who(c);
    if (w instanceof Response) return w;
    const { t, lang, actor } = w;
    const id = DocumentId.parse(c.req.query('id'));
    const doc = await studio.document(id);
    const kind = kindOf(id);
    const wordings = kind === 'flow' ? stepWordings(doc.content) : [];
    const flowId = id.replace(/^flows\//, '').replace(/\.yaml$/, '');
    const transcripts = kind === 'flow' ? [...studio.baseline.keys(), ...(await studio.list()).map((d) => d.id)].filter((d, i, all) => d.startsWith('transcripts/') && transcriptFlow(d) === flowId && all.indexOf(d) === i) : [];
    const steps = [...new Set(wordings.map((w) => w.step))];
    return c.html(
      <Layout t={t} lang={lang} title={id} actor={actor} active="documents" data={{ id, kind, wordings, hasDraft: doc.draft !== null, wording: clientWording(t) }}>
        <div class="page">
          <div class="row">
            <h1>
              {id} <span class={`badge state-${doc.draft ? 'draft' : doc.published ? 'published' : 'baseline'}`}>{t(`state.${doc.draft ? 'draft' : doc.published ? 'published' : 'baseline'}`)}</span>
            </h1>
            <span>
              <input id="comment" placeholder={t('editor.commentPlaceholder')} aria-label={t('editor.comment')} />{' '}
              <button type="button" data-action="save" class="primary">
                {t('editor.save')}
              </button>{' '}
              {doc.draft && (
                <button type="button" data-action="discard">
                  {t('editor.discard')}
                </button>
              )}{' '}
              {doc.draft && (
                <button type="button" data-action="check">
                  {t('editor.check')}
                </button>
              )}{' '}
              {doc.draft && actor.role === 'admin' && (
                <button type="button" data-action="publish" class="primary">
                  {t('editor.publish')}
                </button>
              )}
            </span>
          </div>
          <div id="result" class="result" />
          <div class="tabs" role="tablist">
            {kind === 'flow' && (
              <button type="button" role="tab" data-tab="form" class="on">
                {t('editor.form')}
              </button>
            )}
            <button type="button" role="tab" data-tab="yaml" class={kind === 'flow' ? '' : 'on'}>
              {t('editor.yaml')}
            </button>
            {kind === 'flow' && (
              <button type="button" role="tab" data-tab="preview">
                {t('editor.preview')}
              </button>
            )}
            <button type="button" role="tab" data-tab="history">
              {t('editor.history')} ({doc.history.length})
            </button>
          </div>
          {kind === 'flow' && (
            <section data-panel="form" class="panel">
              <table class="form">
                <tr>
                  <th>{t('editor.step')}</th>
                  <th>{t('editor.field')}</th>
                  {LOCALES.map((l) => (
                    <th>{l}</th>
                  ))}
                  <th />
                </tr>
                {wordings.map((w, i) => (
                  <tr data-wording={i}>
                    <td>{w.step}</td>
                    <td>{w.field}</td>
                    {LOCALES.map((l) => (
                      <td>
                        <textarea data-locale={l} aria-label={`${w.step} ${w.field} ${l}`} rows={2}>
                          {w.texts[l] ?? ''}
                        </textarea>
                      </td>
                    ))}
                    <td>
                      <button type="button" data-action="save-wording" data-index={i}>
                        {t('editor.saveWording')}
                      </button>
                    </td>
                  </tr>
                ))}
              </table>
            </section>
          )}
          <section data-panel="yaml" class="panel" hidden={kind === 'flow'}>
            <div class="editor">
              <pre class="gutter" id="gutter" aria-hidden="true" />
              <textarea id="source" spellcheck={false} aria-label={t('editor.yaml')}>
                {doc.content}
              </textarea>
            </div>
            <div id="problems" class="problems" aria-live="polite" />
          </section>
          {kind === 'flow' && (
            <section data-panel="preview" class="panel" hidden>
              <label>
                {t('editor.pickStep')}{' '}
                <select id="preview-step">
                  {steps.map((s) => (
                    <option value={s}>{s}</option>
                  ))}
                </select>
              </label>
              <div class="preview">
                {LOCALES.map((l) => (
                  <div class="bubble-col" data-preview={l}>
                    <h3>{l}</h3>
                    <div class="bubbles" />
                  </div>
                ))}
              </div>
            </section>
          )}
          <section data-panel="history" class="panel" hidden>
            <table class="history">
              <tr>
                <th>#</th>
                <th>{t('list.state')}</th>
                <th>{t('editor.comment')}</th>
                <th />
              </tr>
              {doc.history.map((v) => (
                <tr data-version={v.id}>
                  <td>
                    {t('editor.version', { n: v.number })} {v.name && <strong>“{v.name}”</strong>}
                  </td>
                  <td>
                    {v.id === doc.draft?.id ? t('state.draft') : v.id === doc.published?.id ? t('state.published') : ''} {v.authorName ?? ''} · {when(v.createdAt, lang)}
                    {v.publishedAt && ` · ${t('state.published')} ${when(v.publishedAt, lang)} ${v.publishedByName ?? ''}`}
                  </td>
                  <td>{v.comment}</td>
                  <td>
                    <a href={`/api/admin/studio/diff?id=${encodeURIComponent(id)}&from=${v.parentId ?? 'baseline'}&to=${v.id}`} data-action="diff">
                      {t('editor.diff')}
                    </a>{' '}
                    <button type="button" data-action="name" data-version={v.id}>
                      {t('editor.name')}
                    </button>{' '}
                    {actor.role === 'admin' && v.id !== doc.published?.id && (
                      <button type="button" data-action="rollback" data-to={v.id}>
                        {t('editor.rollback')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
              {doc.baseline !== null && (
                <tr>
                  <td>{t('editor.baseline')}</td>
                  <td>{doc.published ? '' : t('editor.current')}</td>
                  <td />
                  <td>
                    {actor.role === 'admin' && doc.published && (
                      <button type="button" data-action="rollback" data-to="baseline">
                        {t('editor.rollbackBaseline')}
                      </button>
                    )}
                  </td>
                </tr>
              )}
            </table>
            <pre id="diff" class="diff" />
          </section>
          {transcripts.length > 0 && (
            <section class="panel">
              <h2>{t('editor.transcripts')}</h2>
              <ul>
                {transcripts.map((tid) => (
                  <li>
                    <a href={`/admin/studio/doc?id=${encodeURIComponent(tid)}`}>{tid}</a>
                  </li>
                ))}
              </ul>
            </section>
          )}
        </div>
      </Layout>,
    );
  });

  app.get('/simulator', async (c) => {
    const w = await who(c);
    if (w instanceof Response) return w;
    const { t, lang, actor } = w;
    return c.html(
      <Layout t={t} lang={lang} title={t('nav.simulator')} actor={actor} active="simulator" data={{ page: 'simulator', wording: clientWording(t) }}>
        <div class="page sim">
          <h1>{t('simulator.heading')}</h1>
          <div class="row controls">
            <label>
              {t('simulator.customer')} <select id="sim-customer" />
            </label>
            <label>
              {t('simulator.locale')}{' '}
              <select id="sim-locale">
                {LOCALES.map((l) => (
                  <option value={l}>{l}</option>
                ))}
              </select>
            </label>
            <button type="button" data-action="sim-reset">
              {t('simulator.reset')}
            </button>
          </div>
          <div class="sim-body">
            <div id="sim-log" class="chat" aria-live="polite" />
            <aside id="sim-effects" class="effects">
              <h3>{t('simulator.effects')}</h3>
              <dl>
                <dt>{t('simulator.status')}</dt>
                <dd data-effect="status">—</dd>
                <dt>{t('simulator.handoff')}</dt>
                <dd data-effect="handoff">—</dd>
                <dt>{t('simulator.refunds')}</dt>
                <dd data-effect="refunds">0</dd>
                <dt>{t('simulator.complaints')}</dt>
                <dd data-effect="complaints">0</dd>
              </dl>
            </aside>
          </div>
          <form id="sim-form" class="row">
            <input id="sim-text" placeholder={t('simulator.placeholder')} autocomplete="off" aria-label={t('simulator.placeholder')} />
            <button type="submit" class="primary">
              {t('simulator.send')}
            </button>
          </form>
        </div>
      </Layout>,
    );
  });

  app.get('/not-understood', async (c) => {
    const w = await who(c);
    if (w instanceof Response) return w;
    const { t, lang, actor } = w;
    const groups = await notUnderstood(deps.db, studio.liveGlobals(), deps.clock.now());
    const intents = Intent.options;
    return c.html(
      <Layout t={t} lang={lang} title={t('nav.notUnderstood')} actor={actor} active="notUnderstood" data={{ wording: clientWording(t) }}>
        <div class="page">
          <h1>{t('notUnderstood.heading')}</h1>
          {groups.length === 0 ? (
            <div class="empty">{t('notUnderstood.empty')}</div>
          ) : (
            <table class="nu">
              <tr>
                <th>{t('notUnderstood.text')}</th>
                <th>{t('notUnderstood.count')}</th>
                <th>{t('notUnderstood.handoffs')}</th>
                <th>{t('notUnderstood.last')}</th>
                <th>{t('notUnderstood.label')}</th>
              </tr>
              {groups.map((g) => (
                <tr data-text={g.text} data-locale={g.locale}>
                  <td>
                    <div>{g.text}</div>
                    {g.variants.length > 0 && <div class="muted">{g.variants.join(' · ')}</div>}
                  </td>
                  <td>{g.count}</td>
                  <td>{g.handoffs}</td>
                  <td>{when(g.lastAt, lang)}</td>
                  <td class="label-cell">
                    <select aria-label={t('notUnderstood.label')}>
                      {intents.map((i) => (
                        <option value={i}>{i}</option>
                      ))}
                    </select>{' '}
                    <button type="button" data-action="label">
                      {t('notUnderstood.labelButton')}
                    </button>{' '}
                    <button type="button" data-action="phrase">
                      {t('notUnderstood.phrase')}
                    </button>
                  </td>
                </tr>
              ))}
            </table>
          )}
        </div>
      </Layout>,
    );
  });

  app.get('/lexicon', async (c) => {
    const w = await who(c);
    if (w instanceof Response) return w;
    const { t, lang, actor } = w;
    const score = await studio.scoreDraft();
    const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
    return c.html(
      <Layout t={t} lang={lang} title={t('nav.lexicon')} actor={actor} active="lexicon">
        <div class="page">
          <h1>{t('lexicon.heading', { n: score.after.total })}</h1>
          <p>
            <a href={`/admin/studio/doc?id=${encodeURIComponent('flows/intents.yaml')}`}>flows/intents.yaml</a>
          </p>
          <table class="score">
            <tr>
              <th>{t('lexicon.intent')}</th>
              <th>{t('lexicon.before')}</th>
              <th>{t('lexicon.after')}</th>
            </tr>
            {Intent.options.map((intent) => {
              const after = score.after.perIntent[intent];
              const before = score.before.perIntent[intent];
              return (
                <tr class={after.accuracy < before.accuracy ? 'worse' : after.accuracy > before.accuracy ? 'better' : ''}>
                  <td>
                    {intent} <span class="muted">({after.total})</span>
                  </td>
                  <td>{pct(before.accuracy)}</td>
                  <td>{pct(after.accuracy)}</td>
                </tr>
              );
            })}
            <tr>
              <th>{t('lexicon.overall')}</th>
              <th>{pct(score.before.accuracy)}</th>
              <th>{pct(score.after.accuracy)}</th>
            </tr>
          </table>
        </div>
      </Layout>,
    );
  });
  return app;
}
