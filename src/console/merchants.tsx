import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Context, Hono } from 'hono';
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { z } from 'zod';
import { compensationLedger } from '../aftersales/compensation.js';
import { type MerchantRecord, merchantHistory, merchantMonthly, merchantRecords } from '../aftersales/merchant-record.js';
import type { Locale } from '../core/message.js';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import { loadCatalog } from '../i18n/catalog.js';
import { formatDateTime, formatMoney } from '../i18n/format.js';
import { type AuthDeps, MANAGERS, sessionActor } from './auth.js';

const CSS = readFileSync(join(import.meta.dirname, 'assets/console.css'), 'utf8');
const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)} %`);

const ACTION_JS = `document.addEventListener('submit', async (ev) => {
  const f = ev.target; if (!f.matches || !f.matches('form[data-merchant-action]')) return; ev.preventDefault();
  const action = ev.submitter && ev.submitter.value; const out = f.querySelector('output');
  const res = await fetch(f.getAttribute('action'), { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ action, reason: f.reason.value }) });
  if (res.ok) { location.reload(); return; }
  const data = await res.json().catch(() => ({})); out.textContent = (data.error && data.error.message) || res.statusText;
});`;

function Shell(props: { locale: Locale; title: string; children: Child }) {
  return (
    <html lang={props.locale}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · kefu console</title>
        <style>{raw(CSS)}</style>
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/console">
            kefu console
          </a>
          <nav>
            <a href="/console/merchants" class="on">
              {props.title}
            </a>
          </nav>
        </header>
        <div class="page">{props.children}</div>
        <script>{raw(ACTION_JS)}</script>
      </body>
    </html>
  );
}

function RecordRow(props: { m: MerchantRecord; locale: Locale; link?: boolean }) {
  const w = loadCatalog('aftersales');
  const { m } = props;
  return (
    <tr>
      <td>{props.link ? <a href={`/console/merchants/${m.id}`}>{m.name}</a> : m.name}</td>
      <td>
        <span class={m.status === 'active' ? 'badge ok' : 'badge bad'}>{w.t(props.locale, `merchants.statuses.${m.status}`)}</span>
      </td>
      <td>{m.complaints}</td>
      <td>{m.orders}</td>
      <td>{pct(m.incidence)}</td>
      <td>{pct(m.resolutionRate)}</td>
      <td>{m.openComplaints}</td>
      <td>{pct(m.punctuality)}</td>
      <td>{m.missedDeadlines}</td>
      <td>{formatMoney(m.payoutsCents)}</td>
    </tr>
  );
}

function Head(props: { locale: Locale }) {
  const t = loadCatalog('aftersales').bind(props.locale);
  return (
    <tr>
      {['name', 'status', 'complaints', 'orders', 'incidence', 'resolution', 'open', 'punctuality', 'missed', 'payouts'].map((k) => (
        <th>{t(`merchants.${k}`)}</th>
      ))}
    </tr>
  );
}

/** `/console/merchants` (managers): each merchant's record, and warn / suspend / reinstate with a reason. */
export function merchantPages(deps: { db: Db; clock: Clock; sessionTtlMs: number; locale?: Locale }): Hono {
  const app = new Hono();
  const auth: AuthDeps = { db: deps.db, clock: deps.clock, sessionTtlMs: deps.sessionTtlMs };
  const locale: Locale = deps.locale ?? 'zh-Hans';
  const t = loadCatalog('aftersales').bind(locale);

  const manager = async (c: Context) => {
    const session = await sessionActor(auth, c);
    if (!session) return c.redirect(`/console/login?next=${encodeURIComponent(c.req.path)}`, 302);
    if (!MANAGERS.includes(session.actor.role)) return c.text('forbidden', 403);
    return null;
  };

  app.get('/merchants', async (c) => {
    const refused = await manager(c);
    if (refused) return refused;
    const rows = await merchantRecords(deps.db);
    return c.html(
      <Shell locale={locale} title={t('merchants.title')}>
        <h1>{t('merchants.title')}</h1>
        <div class="panel">
          <table>
            <Head locale={locale} />
            {rows.map((m) => (
              <RecordRow m={m} locale={locale} link />
            ))}
          </table>
        </div>
      </Shell>,
    );
  });

  app.get('/merchants/:id', async (c) => {
    const refused = await manager(c);
    if (refused) return refused;
    const id = z.uuid().safeParse(c.req.param('id'));
    const [m] = id.success ? await merchantRecords(deps.db, id.data) : [];
    if (!m) return c.text('not found', 404);
    const [months, history, ledger] = await Promise.all([merchantMonthly(deps.db, m.id, deps.clock.now()), merchantHistory(deps.db, m.id), compensationLedger(deps.db, { merchantId: m.id })]);
    return c.html(
      <Shell locale={locale} title={m.name}>
        <p>
          <a href="/console/merchants">{t('merchants.back')}</a>
        </p>
        <h1>{m.name}</h1>
        {m.statusReason && <p class="muted">{m.statusReason}</p>}
        <div class="panel">
          <table>
            <Head locale={locale} />
            <RecordRow m={m} locale={locale} />
          </table>
        </div>
        <div class="panel">
          <strong>{t('merchants.actions')}</strong>
          <form data-merchant-action action={`/api/console/merchants/${m.id}/status`}>
            <input name="reason" required placeholder={t('merchants.reason')} aria-label={t('merchants.reason')} />{' '}
            <button value="warn">{t('merchants.warn')}</button> <button class="danger" value="suspend">
              {t('merchants.suspend')}
            </button>{' '}
            <button value="reinstate">{t('merchants.reinstate')}</button> <output />
          </form>
        </div>
        <div class="panel">
          <strong>{t('merchants.months')}</strong>
          <table>
            <tr>
              <th>{t('merchants.month')}</th>
              <th>{t('merchants.orders')}</th>
              <th>{t('merchants.complaints')}</th>
              <th>{t('merchants.incidence')}</th>
              <th>{t('merchants.resolution')}</th>
            </tr>
            {months.map((row) => (
              <tr>
                <td>{row.month}</td>
                <td>{row.orders}</td>
                <td>{row.complaints}</td>
                <td>{pct(row.incidence)}</td>
                <td>{pct(row.resolutionRate)}</td>
              </tr>
            ))}
          </table>
        </div>
        <div class="panel">
          <strong>{t('merchants.history')}</strong>
          <table>
            {history.map((h) => (
              <tr>
                <td>{formatDateTime(locale, h.createdAt)}</td>
                <td>{h.action}</td>
                <td>{typeof h.data.reason === 'string' ? h.data.reason : ''}</td>
              </tr>
            ))}
          </table>
        </div>
        <div class="panel">
          <strong>{t('merchants.ledger')}</strong> <span class="muted">{formatMoney(ledger.totals.paidCents)}</span>
          <table>
            {ledger.entries.map((e) => (
              <tr>
                <td>{formatDateTime(locale, e.createdAt)}</td>
                <td>{e.ticketNumber}</td>
                <td>{e.customerName ?? '—'}</td>
                <td>{formatMoney(e.amountCents)}</td>
                <td>{t(`compensation_status.${e.status}`)}</td>
              </tr>
            ))}
          </table>
        </div>
      </Shell>,
    );
  });

  return app;
}
