import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hono, type Context } from 'hono';
import { setCookie } from 'hono/cookie';
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { z } from 'zod';
import { type CaseFocus, focusOrderNumber, type HandoffPacket, type PacketOrder } from '../actions/handoff-context.js';
import { Locale } from '../core/message.js';
import { COMPLAINT_WINDOW_DAYS } from '../db/complaint-stats.js';
import { loadCatalog } from '../i18n/catalog.js';
import { type AuthDeps, MANAGERS, type Role, sessionActor } from './auth.js';
import { type Actor, ResolutionCode } from './cases.js';
import { customerFile, type CustomerFile, searchEverything, type SearchResults } from './directory.js';
import { agentLocale, anonymousLocale, type DeskText, deskText, LOCALE_COOKIE } from './i18n.js';
import { listMacros, MACRO_VARIABLES, macrosForCase } from './macros.js';
import { type AgentFigures, agentFigures, consoleMetrics, type Metrics, MetricsQuery, toCsv } from './metrics.js';
import { caseDetail, type CaseDetail, type CaseRow, queue, QueueView, staff } from './queries.js';
import type { ConsoleDeps } from './api-routes.js';
import { periodOf } from './api-routes.js';
import { safeNextPath } from './safe-next.js';
import { AfterSalesPanel, caseAfterSales } from './case-aftersales.js';
import { attachmentLinks, refusedAttachments } from './attachments.js';
import { markSeenByAgent } from './seen.js';

const CSS = readFileSync(join(import.meta.dirname, 'assets/console.css'), 'utf8');
const JS = readFileSync(join(import.meta.dirname, 'assets/console.js'), 'utf8');

/** Keys the browser script needs (toasts, countdowns, prompts), sent with each page. */
const CLIENT_KEYS = ['units.hShort', 'units.mShort', 'units.sShort', 'due.left', 'due.overdue', 'client.pickAgent', 'client.pickCode', 'client.writeFirst', 'client.escalateWhy', 'client.done', 'client.failed'];

function Ts(props: { at: Date | string | null; d: DeskText }) {
  if (props.at === null) return <span>—</span>;
  const iso = typeof props.at === 'string' ? props.at : props.at.toISOString();
  return <time datetime={iso}>{props.d.dateTime(iso)}</time>;
}

/** A closed value in words (`words.<set>.<value>`), the raw value when the wording has none. */
function word(d: DeskText, set: string, value: string | null | undefined): string {
  if (value === null || value === undefined) return '—';
  try {
    return d.t(`words.${set}.${value}`);
  } catch {
    return value;
  }
}

function Layout(props: {
  title: string;
  actor: Actor | null;
  d: DeskText;
  active?: string;
  caseId?: string;
  live?: boolean;
  counts?: Record<string, number>;
  q?: string;
  children: Child;
}) {
  const { actor, d } = props;
  const manager = actor !== null && actor.role !== 'agent';
  const clientText = Object.fromEntries(CLIENT_KEYS.map((k) => [k, d.t(k)]));
  return (
    <html lang={d.htmlLang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>
          {props.title} · {d.t('app.name')}
        </title>
        <style>{raw(CSS)}</style>
      </head>
      <body data-case={props.caseId ?? ''} data-live={props.live ? '1' : '0'} data-locale={d.locale}>
        {actor && (
          <header class="top">
            <a class="brand" href="/console">
              {d.t('app.name')}
            </a>
            <nav id="tabs" aria-label={d.t('nav.label')}>
              {(['waiting', 'mine', ...(manager ? ['escalated'] : [])] as const).map((v) => (
                <a href={`/console?view=${v}`} class={props.active === v ? 'on' : ''} {...(props.active === v ? { 'aria-current': 'page' } : {})}>
                  {d.t(`nav.${v}`)} <span class="count">{props.counts?.[v] ?? ''}</span>
                </a>
              ))}
              {manager && (
                <a href="/console/dashboard" class={props.active === 'dashboard' ? 'on' : ''}>
                  {d.t('nav.dashboard')}
                </a>
              )}
              {manager && (
                <a href="/console/macros" class={props.active === 'macros' ? 'on' : ''}>
                  {d.t('nav.macros')}
                </a>
              )}
              {manager && (
                <a href="/console/merchants" class={props.active === 'merchants' ? 'on' : ''}>
                  {d.t('nav.merchants')}
                </a>
              )}
              {actor.role === 'admin' && <a href="/admin">{d.t('nav.admin')}</a>}
            </nav>
            <form method="get" action="/console/search" role="search">
              <input type="search" name="q" value={props.q ?? ''} placeholder={d.t('nav.searchPlaceholder')} aria-label={d.t('nav.search')} />
            </form>
            <span class="spacer" />
            <label class="lang">
              <span class="sr-only">{d.t('nav.language')}</span>
              <select id="locale-switch" aria-label={d.t('nav.language')}>
                {Locale.options.map((l) => (
                  <option value={l} selected={l === d.locale}>
                    {d.t(`words.locale.${l}`)}
                  </option>
                ))}
              </select>
            </label>
            <span>
              {actor.name} <span class="badge">{word(d, 'role', actor.role)}</span>
            </span>
            <button data-action="logout">{d.t('nav.logout')}</button>
          </header>
        )}
        {props.children}
        <div id="toast" role="status" />
        <script type="application/json" id="console-text">
          {raw(JSON.stringify(clientText).replace(/</g, '\\u003c'))}
        </script>
        <script>{raw(JS)}</script>
      </body>
    </html>
  );
}

function Due(props: { row: Pick<CaseRow, 'firstHumanReplyAt' | 'firstResponseDueAt' | 'resolutionDueAt' | 'handoffAt' | 'status'>; d: DeskText }) {
  const { row, d } = props;
  if (row.status !== 'waiting' && row.status !== 'assigned') return <span class="badge ok">{word(d, 'status', row.status)}</span>;
  const firstOpen = row.firstHumanReplyAt === null;
  const due = firstOpen ? row.firstResponseDueAt : row.resolutionDueAt;
  if (!due) return <span />;
  const span = row.handoffAt ? due.getTime() - row.handoffAt.getTime() : 3600_000;
  return (
    <span>
      <span class="muted">{firstOpen ? d.t('due.reply') : d.t('due.resolve')} </span>
      <span class="due" data-due={due.toISOString()} data-span={String(span)}>
        {d.dateTime(due)}
      </span>
    </span>
  );
}

function QueueList(props: { rows: CaseRow[]; view: string; selected?: string | undefined; d: DeskText }) {
  const { d } = props;
  if (props.rows.length === 0) return <div class="empty">{d.t('queue.empty')}</div>;
  return (
    <ol>
      {props.rows.map((r) => (
        <li>
          <a href={`/console?view=${props.view}&c=${r.id}`} class={r.id === props.selected ? 'on' : ''} data-case-link={r.id}>
            <div class="row">
              <strong>{r.customerName ?? d.t('queue.guest')}</strong>
              <Due row={r} d={d} />
            </div>
            <div class="row">
              <span class="muted">
                {r.ticketNumber} · {word(d, 'reason', r.reason)} · {word(d, 'channel', r.channel)}
              </span>
              <span>
                {r.priority > 0 && <span class={`badge p${Math.min(r.priority, 3)}`}>P{r.priority}</span>}{' '}
                {r.escalated && <span class="badge bad">{d.t('queue.escalated')}</span>}{' '}
                {r.firstTimeUser && <span class="badge warn">{d.t('queue.firstTime')}</span>}
              </span>
            </div>
            <div class="muted">
              {r.ownerName ? d.t('queue.owner', { name: r.ownerName }) : d.t('queue.unclaimed')}
              {r.transferToName ? ` → ${d.t('queue.offeredTo', { name: r.transferToName })}` : ''}
            </div>
          </a>
        </li>
      ))}
    </ol>
  );
}

function CaseHead(props: { detail: CaseDetail; actor: Actor; agents: { id: string; name: string; role: Role }[]; d: DeskText }) {
  const { detail, actor, d } = props;
  const c = detail.case;
  const mine = c.ownerAgentId === actor.id;
  const manager = actor.role !== 'agent';
  const open = c.status === 'waiting' || c.status === 'assigned';
  return (
    <div>
      <h1>
        {detail.handoff?.ticketNumber ?? d.t('case.conversation')} · <a href={`/console/customers/${c.customerId}`}>{c.customerName ?? d.t('queue.guest')}</a>{' '}
        <span class="badge">{word(d, 'status', c.status)}</span> {c.escalated && <span class="badge bad">{d.t('queue.escalated')}</span>}
      </h1>
      <div class="muted">
        {word(d, 'channel', c.channel)} · {word(d, 'locale', c.locale)} · {d.t('case.reason')} {word(d, 'reason', detail.handoff?.reason)} ·{' '}
        {d.t('case.owner')} {c.ownerName ?? d.t('case.nobody')}
        {c.transferToName ? ` · ${d.t('queue.offeredTo', { name: c.transferToName })}` : ''} · {d.t('case.handedOff')} <Ts at={c.handoffAt} d={d} /> ·{' '}
        <Due row={c} d={d} />
        {c.resolutionCode ? ` · ${d.t('case.resolvedAs', { code: word(d, 'resolution', c.resolutionCode) })}` : ''}
        {c.satisfaction !== null ? ` · ${d.t('case.satisfaction', { score: c.satisfaction })}` : ''}
      </div>
      {open && (
        <div class="actions">
          {c.status === 'waiting' && (
            <button class="primary" data-action="claim" data-done={d.t('case.claimed')}>
              {d.t('case.claim')}
            </button>
          )}
          {c.transferToAgentId === actor.id && (
            <button class="primary" data-action="accept" data-done={d.t('case.accepted')}>
              {d.t('case.accept')}
            </button>
          )}
          {(mine || manager) && c.status === 'assigned' && (
            <>
              <select id="transfer-to" aria-label={d.t('case.transferTo')}>
                <option value="">{d.t('case.transferTo')}…</option>
                {props.agents
                  .filter((a) => a.id !== c.ownerAgentId)
                  .map((a) => (
                    <option value={a.id}>
                      {a.name} ({word(d, 'role', a.role)})
                    </option>
                  ))}
              </select>
              <button data-action="transfer" data-done={d.t('case.transferred')}>
                {d.t('case.transfer')}
              </button>
              {manager && (
                <button data-action="reassign" data-done={d.t('case.reassigned')}>
                  {d.t('case.reassign')}
                </button>
              )}
            </>
          )}
          {(mine || manager || c.ownerAgentId === null) && !c.escalated && (
            <button class="danger" data-action="escalate" data-done={d.t('case.escalatedDone')}>
              {d.t('case.escalate')}
            </button>
          )}
          {(mine || manager) && c.status === 'assigned' && (
            <>
              <select id="resolution-code" aria-label={d.t('case.resolution')}>
                <option value="">{d.t('case.resolution')}…</option>
                {ResolutionCode.options.map((code) => (
                  <option value={code}>{word(d, 'resolution', code)}</option>
                ))}
              </select>
              <button data-action="resolve" data-done={d.t('case.resolvedDone')}>
                {d.t('case.resolve')}
              </button>
            </>
          )}
        </div>
      )}
    </div>
  );
}

function Transcript(props: { detail: CaseDetail; d: DeskText }) {
  const { d } = props;
  return (
    <>
      {props.detail.transcript.map((m) => {
        const kind = m.direction === 'internal' ? 'internal' : m.author;
        const who =
          m.direction === 'internal'
            ? d.t('transcript.note', { name: m.agentName ?? '' })
            : m.author === 'agent'
              ? d.t('transcript.agent', { name: m.agentName ?? '' })
              : word(d, 'author', m.author);
        return (
          <div class={`msg ${kind}`}>
            <div class="who">
              {who} · <Ts at={m.createdAt} d={d} />
              {m.direction === 'out' && m.deliveryStatus !== 'sent' ? ` · ${word(d, 'delivery', m.deliveryStatus)}` : ''}
            </div>
            {m.text}
            {attachmentLinks(m.attachments).map((a) => (
              <div class="attachment">
                <a href={`/api/console/attachments/${a.id}`} target="_blank" rel="noopener">
                  {a.image ? <img src={`/api/console/attachments/${a.id}`} alt={a.name ?? d.t('attachment.photo')} style="max-width:240px;max-height:240px;display:block" /> : `📎 ${a.name ?? d.t('attachment.file')}`}
                </a>
              </div>
            ))}
            {refusedAttachments(m.attachments).map((a) => (
              <div class="attachment refused">
                ⚠ {d.t(`attachment.refused.${a.reason}`, { name: a.name ?? d.t('attachment.file'), size: a.size === null ? '?' : `${(a.size / 1048576).toFixed(1)} MB` })}
              </div>
            ))}
            {m.quickReplies && m.quickReplies.length > 0 && (
              <div>
                {m.quickReplies.map((q) => (
                  <span class="qr">{q.label}</span>
                ))}
              </div>
            )}
          </div>
        );
      })}
    </>
  );
}

const orderAnchor = (orderNumber: string) => `order-${orderNumber}`;

function Field(props: { label: string; children: Child }) {
  return (
    <div class="field">
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

function OrderLink(props: { orderNumber: string | null; packet: HandoffPacket }) {
  if (props.orderNumber === null) return <span>—</span>;
  const known = props.packet.orders.some((o) => o.orderNumber === props.orderNumber);
  return known ? <a href={`#${orderAnchor(props.orderNumber)}`}>{props.orderNumber}</a> : <span>{props.orderNumber}</span>;
}

/** What the case is about, as labelled fields (never JSON). */
function FocusCard(props: { focus: CaseFocus; packet: HandoffPacket; d: DeskText }) {
  const { focus, packet, d } = props;
  switch (focus.kind) {
    case 'complaint':
      return (
        <dl class="fields">
          <Field label={d.t('focus.reference')}>{focus.reference ?? '—'}</Field>
          <Field label={d.t('focus.order')}>
            <OrderLink orderNumber={focus.orderNumber} packet={packet} />
          </Field>
          <Field label={d.t('focus.merchant')}>{focus.merchantName ?? '—'}</Field>
          <Field label={d.t('focus.category')}>{word(d, 'category', focus.category)}</Field>
          <Field label={d.t('focus.description')}>
            <q class="words">{focus.description}</q>
          </Field>
          <Field label={d.t('focus.occurredAt')}>{focus.occurredAt ?? '—'}</Field>
          <Field label={d.t('focus.wantedOutcome')}>{word(d, 'outcome', focus.wantedOutcome)}</Field>
        </dl>
      );
    case 'refund_review':
      return (
        <dl class="fields">
          <Field label={d.t('focus.order')}>
            <OrderLink orderNumber={focus.orderNumber} packet={packet} />
          </Field>
          <Field label={d.t('focus.merchant')}>{focus.merchantName ?? '—'}</Field>
          <Field label={d.t('focus.coupons')}>
            {focus.couponCodes.map((code) => (
              <CouponWithState code={code} packet={packet} d={d} />
            ))}
          </Field>
          <Field label={d.t('focus.amount')}>{focus.amountCents === null ? '—' : d.money(focus.amountCents)}</Field>
          <Field label={d.t('focus.why')}>{word(d, 'why', focus.why)}</Field>
        </dl>
      );
    case 'callback':
      return (
        <dl class="fields">
          <Field label={d.t('focus.phone')}>{focus.phone ?? '—'}</Field>
          <Field label={d.t('focus.step')}>{focus.step ? <q class="words">{focus.step}</q> : '—'}</Field>
        </dl>
      );
    case 'not_understood':
      return (
        <dl class="fields">
          <Field label={d.t('focus.notUnderstood')}>
            {focus.messages.map((m) => (
              <div>
                <q class="words">{m}</q>
              </div>
            ))}
          </Field>
        </dl>
      );
    case 'general':
      return focus.orderNumber ? (
        <dl class="fields">
          <Field label={d.t('focus.order')}>
            <OrderLink orderNumber={focus.orderNumber} packet={packet} />
          </Field>
        </dl>
      ) : (
        <span />
      );
  }
}

function CouponWithState(props: { code: string; packet: HandoffPacket; d: DeskText }) {
  const state = props.packet.orders.flatMap((o) => o.coupons).find((c) => c.code === props.code)?.state;
  return (
    <span class="coupon">
      <code>{props.code}</code> {state && <span class={stateClass(state)}>{word(props.d, 'couponState', state)}</span>}
    </span>
  );
}

const stateClass = (state: string) => (state === 'unused' ? 'badge ok' : state === 'used' ? 'badge' : 'badge warn');

/** The flow's own bookkeeping, not something the consumer told us. */
const INTERNAL_SLOTS = new Set(['flow', 'step', 'recent', 'found', 'check', 'done']);

/** Slots the bot collected, as labelled fields; the flow's internal records (lists, action results) are left out. */
function CollectedFields(props: { slots: Record<string, unknown>; packet: HandoffPacket; d: DeskText }) {
  const { slots, packet, d } = props;
  const fields: Child[] = [];
  for (const [key, value] of Object.entries(slots)) {
    if (value === null || value === undefined || value === '' || INTERNAL_SLOTS.has(key)) continue;
    if (key === 'orderRef' && typeof value === 'string') {
      fields.push(
        <Field label={d.t('slot.orderRef')}>
          <OrderLink orderNumber={value} packet={packet} />
        </Field>,
      );
    } else if (key === 'coupon') {
      const codes = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
      fields.push(
        <Field label={d.t('slot.coupon')}>
          {codes.map((code) => (
            <CouponWithState code={code} packet={packet} d={d} />
          ))}
        </Field>,
      );
    } else if (key === 'category' && typeof value === 'string') {
      fields.push(<Field label={d.t('slot.category')}>{word(d, 'category', value)}</Field>);
    } else if (key === 'wantedOutcome' && typeof value === 'string') {
      fields.push(<Field label={d.t('slot.wantedOutcome')}>{word(d, 'outcome', value)}</Field>);
    } else if (key === 'photos' && Array.isArray(value)) {
      fields.push(<Field label={d.t('slot.photos')}>{d.t('slot.photoCount', { count: value.length })}</Field>);
    } else if (key === 'callbackPhone' && typeof value === 'string') {
      fields.push(<Field label={d.t('slot.callbackPhone')}>{value === 'account' ? d.t('slot.accountPhone') : value}</Field>);
    } else if (key === 'complaint' && value !== null && typeof value === 'object' && 'ticketNumber' in value && typeof value.ticketNumber === 'string') {
      fields.push(<Field label={d.t('slot.complaint')}>{value.ticketNumber}</Field>);
    } else if (typeof value === 'string' || typeof value === 'number') {
      fields.push(<Field label={word(d, 'slot', key)}>{String(value)}</Field>);
    }
  }
  if (fields.length === 0) return <div class="muted">—</div>;
  return <dl class="fields">{fields}</dl>;
}

function OrderCard(props: { o: PacketOrder; isCase: boolean; d: DeskText }) {
  const { o, d } = props;
  const weekdays = o.deal.weekdays.length === 7 ? d.t('order.everyDay') : o.deal.weekdays.map((n) => d.t(`words.weekday.${n}`)).join(d.t('order.weekdaySep'));
  const refundTerms = o.deal.refundAnytime ? d.t('order.refundAnytime') : o.deal.refundOnExpiry ? d.t('order.refundOnExpiry') : d.t('order.refundNone');
  return (
    <div class={props.isCase ? 'order case' : 'order'} id={orderAnchor(o.orderNumber)}>
      <div class="row">
        <strong>
          {o.orderNumber} {props.isCase && <span class="badge warn">{d.t('order.thisCase')}</span>}
        </strong>
        <span class="muted">
          <Ts at={o.createdAt} d={d} />
        </span>
      </div>
      <div>
        {o.deal.title} · {o.quantity} × {d.money(o.deal.priceCents)} <span class="muted">({d.t('order.was', { price: d.money(o.deal.originalPriceCents) })})</span>
      </div>
      <dl class="fields terms">
        <Field label={d.t('order.includes')}>{o.deal.included.map((i) => `${i.item} ×${i.quantity}`).join('、')}</Field>
        <Field label={d.t('order.valid')}>
          {d.t('order.validRange', { from: o.deal.validFrom, to: o.deal.validTo })}; {weekdays} {o.deal.hoursFrom}–{o.deal.hoursTo}
        </Field>
        <Field label={d.t('order.reservation')}>{o.deal.reservationRequired ? d.t('order.reservationNeeded') : d.t('order.reservationNone')}</Field>
        <Field label={d.t('order.refundTerms')}>{refundTerms}</Field>
        {o.deal.usageNotes && <Field label={d.t('order.notes')}>{o.deal.usageNotes}</Field>}
        <Field label={d.t('order.merchant')}>
          {o.merchant.name} · <span class={o.merchant.status === 'active' ? 'badge ok' : 'badge bad'}>{word(d, 'merchantStatus', o.merchant.status)}</span> ·{' '}
          {d.t('order.complaints', { count: o.merchant.complaintCount, days: COMPLAINT_WINDOW_DAYS })} · {o.merchant.phone}
        </Field>
      </dl>
      <table>
        <caption class="sr-only">{d.t('order.coupons')}</caption>
        {o.coupons.map((cp) => (
          <tr>
            <td>
              <code>{cp.code}</code>
            </td>
            <td>
              <span class={stateClass(cp.state)}>{word(d, 'couponState', cp.state)}</span>
            </td>
            <td class="muted">{d.t('order.expires', { day: d.day(cp.expiresAt) })}</td>
          </tr>
        ))}
      </table>
    </div>
  );
}

function Packet(props: { detail: CaseDetail; d: DeskText }) {
  const { d } = props;
  const p: HandoffPacket = props.detail.packet;
  const h = props.detail.handoff;
  const caseOrder = focusOrderNumber(p.focus);
  return (
    <>
      <h2>{d.t('packet.summary')}</h2>
      <div class="card">
        <p class="summary">{h?.summary ?? '—'}</p>
        {h?.callbackPhone && <div>{d.t('packet.callBack', { phone: h.callbackPhone })}</div>}
      </div>
      {p.focus && p.focus.kind !== 'general' && (
        <>
          <h2>{d.t(`focus.title.${p.focus.kind}`)}</h2>
          <div class="card">
            <FocusCard focus={p.focus} packet={p} d={d} />
          </div>
        </>
      )}
      {h && Object.keys(h.slots).length > 0 && (
        <>
          <h2>{d.t('packet.collected')}</h2>
          <div class="card">
            <CollectedFields slots={h.slots} packet={p} d={d} />
          </div>
        </>
      )}
      <h2>{d.t('packet.customer')}</h2>
      <div class="card">
        <a href={`/console/customers/${p.customer.id}`}>
          <strong>{p.customer.name ?? d.t('queue.guest')}</strong>
        </a>{' '}
        {p.customer.firstTimeUser && <span class="badge warn">{d.t('packet.firstTimeUser')}</span>} {p.customer.guest && <span class="badge">{d.t('packet.guest')}</span>}{' '}
        {p.identityLevel !== 'proven' && (
          <span class="badge bad" title={loadCatalog('trust').t(d.locale, 'identity.hint')}>
            {loadCatalog('trust').t(d.locale, `identity.${p.identityLevel}`)}
          </span>
        )}
        <dl class="fields">
          <Field label={d.t('packet.phone')}>{p.customer.phone ?? '—'}</Field>
          <Field label={d.t('packet.email')}>{p.customer.email ?? '—'}</Field>
          <Field label={d.t('packet.language')}>{word(d, 'locale', p.customer.locale)}</Field>
          <Field label={d.t('packet.channels')}>
            {p.customer.channels
              .map((ch) => `${word(d, 'channel', ch.channel)}${ch.displayName ? ` (${ch.displayName})` : ''}${ch.unreachable ? ` – ${d.t('packet.unreachable')}` : ''}`)
              .join('、')}
          </Field>
        </dl>
      </div>
      {props.detail.refundsUnderReview.length > 0 && (
        <>
          <h2>{d.t('packet.refundsUnderReview')}</h2>
          <div class="card">
            <table>
              {props.detail.refundsUnderReview.map((r) => (
                <tr>
                  <td>
                    <code>{r.couponCode}</code>
                  </td>
                  <td>{d.money(r.amountCents)}</td>
                  <td class="muted">{word(d, 'why', r.policy.replace(/^review:/, ''))}</td>
                  <td>
                    <button class="primary" data-action="approve" data-refund={r.id} data-done={d.t('packet.approved')}>
                      {d.t('packet.approve')}
                    </button>{' '}
                    <button class="danger" data-action="deny" data-refund={r.id} data-done={d.t('packet.denied')}>
                      {d.t('packet.deny')}
                    </button>
                  </td>
                </tr>
              ))}
            </table>
          </div>
        </>
      )}
      <h2>{caseOrder ? d.t('packet.ordersWithCase') : d.t('packet.orders')}</h2>
      <div class="card" id="orders">
        {p.orders.length === 0 && <div class="muted">{d.t('packet.noOrders')}</div>}
        {p.orders.map((o) => (
          <OrderCard o={o} isCase={o.orderNumber === caseOrder} d={d} />
        ))}
      </div>
      <h2>{d.t('packet.refunds')}</h2>
      <div class="card">
        {p.refunds.length === 0 ? (
          <div class="muted">{d.t('packet.none')}</div>
        ) : (
          <table>
            {p.refunds.map((r) => (
              <tr>
                <td>
                  <code>{r.couponCode}</code>
                </td>
                <td>{d.money(r.amountCents)}</td>
                <td>{word(d, 'refundStatus', r.status)}</td>
                <td class="muted">
                  <Ts at={r.createdAt} d={d} />
                </td>
              </tr>
            ))}
          </table>
        )}
      </div>
      <h2>{d.t('packet.earlier')}</h2>
      <div class="card">
        {p.earlierConversations.length === 0 ? (
          <div class="muted">{d.t('packet.none')}</div>
        ) : (
          <table>
            {p.earlierConversations.map((e) => (
              <tr>
                <td>
                  <a href={`/console?c=${e.id}`}>{e.ticketNumber ?? word(d, 'channel', e.channel)}</a>
                </td>
                <td>{e.reason ? word(d, 'reason', e.reason) : ''}</td>
                <td>{e.resolutionCode ? word(d, 'resolution', e.resolutionCode) : word(d, 'status', e.status)}</td>
                <td class="muted">
                  <Ts at={e.createdAt} d={d} />
                </td>
              </tr>
            ))}
          </table>
        )}
      </div>
    </>
  );
}

function Group(props: { title: string; count: number; children: Child }) {
  if (props.count === 0) return <></>;
  return (
    <section class="panel" aria-label={props.title}>
      <h2>
        {props.title} <span class="badge">{props.count}</span>
      </h2>
      {props.children}
    </section>
  );
}

function SearchPage(props: { r: SearchResults; d: DeskText }) {
  const { r, d } = props;
  const total = r.customers.length + r.orders.length + r.coupons.length + r.complaints.length + r.tickets.length + r.conversations.length;
  const customerLink = (id: string, name: string | null) => <a href={`/console/customers/${id}`}>{name ?? d.t('queue.guest')}</a>;
  return (
    <main class="page" id="search-results">
      <h1>{d.t('search.title', { q: r.q })}</h1>
      {total === 0 && <div class="empty">{r.q.length < 2 ? d.t('search.tooShort') : d.t('search.nothing')}</div>}
      <Group title={d.t('search.customers')} count={r.customers.length}>
        <table>
          {r.customers.map((c) => (
            <tr>
              <td>{customerLink(c.id, c.name)}</td>
              <td>{c.phone ?? '—'}</td>
              <td>{c.email ?? '—'}</td>
              <td class="muted">{c.channels.map((ch) => word(d, 'channel', ch)).join('、')}</td>
            </tr>
          ))}
        </table>
      </Group>
      <Group title={d.t('search.complaints')} count={r.complaints.length}>
        <table>
          {r.complaints.map((c) => (
            <tr>
              <td>{c.conversationId ? <a href={`/console?c=${c.conversationId}`}>{c.ticketNumber}</a> : c.ticketNumber}</td>
              <td>{customerLink(c.customerId, c.customerName)}</td>
              <td>{word(d, 'category', c.category)}</td>
              <td>{word(d, 'complaintStatus', c.status)}</td>
              <td class="muted">
                <Ts at={c.createdAt} d={d} />
              </td>
            </tr>
          ))}
        </table>
      </Group>
      <Group title={d.t('search.tickets')} count={r.tickets.length}>
        <table>
          {r.tickets.map((t) => (
            <tr>
              <td>
                <a href={`/console?c=${t.conversationId}`}>{t.ticketNumber}</a>
              </td>
              <td>{customerLink(t.customerId, t.customerName)}</td>
              <td>{word(d, 'reason', t.reason)}</td>
              <td class="muted">
                <Ts at={t.createdAt} d={d} />
              </td>
            </tr>
          ))}
        </table>
      </Group>
      <Group title={d.t('search.orders')} count={r.orders.length}>
        <table>
          {r.orders.map((o) => (
            <tr>
              <td>{o.orderNumber}</td>
              <td>{customerLink(o.customerId, o.customerName)}</td>
              <td>
                {o.dealTitle} · {o.merchantName}
              </td>
              <td class="muted">
                <Ts at={o.createdAt} d={d} />
              </td>
            </tr>
          ))}
        </table>
      </Group>
      <Group title={d.t('search.coupons')} count={r.coupons.length}>
        <table>
          {r.coupons.map((c) => (
            <tr>
              <td>
                <code>{c.code}</code>
              </td>
              <td>
                <span class={stateClass(c.state)}>{word(d, 'couponState', c.state)}</span>
              </td>
              <td>{c.orderNumber}</td>
              <td>{customerLink(c.customerId, c.customerName)}</td>
            </tr>
          ))}
        </table>
      </Group>
      <Group title={d.t('search.conversations')} count={r.conversations.length}>
        <table>
          {r.conversations.map((c) => (
            <tr>
              <td>
                <a href={`/console?c=${c.id}`}>{word(d, 'channel', c.channel)}</a>
              </td>
              <td>{customerLink(c.customerId, c.customerName)}</td>
              <td>{word(d, 'status', c.status)}</td>
              <td class="muted">{c.snippet ?? ''}</td>
              <td class="muted">
                <Ts at={c.lastMessageAt} d={d} />
              </td>
            </tr>
          ))}
        </table>
      </Group>
    </main>
  );
}

function CustomerPage(props: { f: CustomerFile; d: DeskText }) {
  const { f, d } = props;
  const c = f.customer;
  const reachable = f.channels.find((ch) => !ch.unreachable);
  return (
    <main class="page" id="customer">
      <h1>
        {c.name ?? d.t('queue.guest')} {c.firstTimeUser && <span class="badge warn">{d.t('packet.firstTimeUser')}</span>}
      </h1>
      <div class="columns">
        <section class="panel" aria-label={d.t('customer.profile')}>
          <h2>{d.t('customer.profile')}</h2>
          <dl class="fields">
            <Field label={d.t('packet.phone')}>{c.phone ?? '—'}</Field>
            <Field label={d.t('packet.email')}>{c.email ?? '—'}</Field>
            <Field label={d.t('packet.language')}>{word(d, 'locale', c.locale)}</Field>
            <Field label={d.t('customer.since')}>{d.day(c.createdAt)}</Field>
          </dl>
          <h2>{d.t('customer.channels')}</h2>
          {f.channels.length === 0 ? (
            <div class="muted">{d.t('packet.none')}</div>
          ) : (
            <table>
              {f.channels.map((ch) => (
                <tr>
                  <td>{word(d, 'channel', ch.channel)}</td>
                  <td>{ch.displayName ?? ch.externalId}</td>
                  <td>{ch.unreachable ? <span class="badge bad">{d.t('packet.unreachable')}</span> : <span class="badge ok">{d.t('customer.reachable')}</span>}</td>
                  <td class="muted">{d.t('customer.lastSeen', { at: d.dateTime(ch.lastSeenAt) })}</td>
                </tr>
              ))}
            </table>
          )}
          <h2>{d.t('customer.write')}</h2>
          {reachable ? (
            <form id="start-conversation" data-customer={c.id}>
              <label for="start-text">{d.t('customer.writeLabel', { channel: word(d, 'channel', reachable.channel) })}</label>
              <textarea id="start-text" name="text" required />
              <button class="primary" type="submit" data-done={d.t('customer.started')}>
                {d.t('customer.send')}
              </button>
            </form>
          ) : (
            <div class="muted">{d.t('customer.noReachable')}</div>
          )}
        </section>
        <section class="panel" aria-label={d.t('customer.conversations')}>
          <h2>{d.t('customer.conversations')}</h2>
          {f.conversations.length === 0 ? (
            <div class="muted">{d.t('packet.none')}</div>
          ) : (
            <table>
              {f.conversations.map((cv) => (
                <tr>
                  <td>
                    <a href={`/console?c=${cv.id}`}>{cv.ticketNumber ?? word(d, 'channel', cv.channel)}</a>
                  </td>
                  <td>{word(d, 'channel', cv.channel)}</td>
                  <td>{cv.resolutionCode ? word(d, 'resolution', cv.resolutionCode) : word(d, 'status', cv.status)}</td>
                  <td class="muted">{d.t('customer.messages', { count: cv.messageCount })}</td>
                  <td class="muted">
                    <Ts at={cv.lastMessageAt} d={d} />
                  </td>
                </tr>
              ))}
            </table>
          )}
          <h2>{d.t('customer.complaints')}</h2>
          {f.complaints.length === 0 ? (
            <div class="muted">{d.t('packet.none')}</div>
          ) : (
            <table>
              {f.complaints.map((cp) => (
                <tr>
                  <td>{cp.complaint.conversationId ? <a href={`/console?c=${cp.complaint.conversationId}`}>{cp.complaint.ticketNumber}</a> : cp.complaint.ticketNumber}</td>
                  <td>{cp.orderNumber ?? '—'}</td>
                  <td>{cp.merchantName ?? '—'}</td>
                  <td>{word(d, 'category', cp.complaint.category)}</td>
                  <td>{word(d, 'complaintStatus', cp.complaint.status)}</td>
                </tr>
              ))}
            </table>
          )}
          <h2>{d.t('customer.refunds')}</h2>
          {f.refunds.length === 0 ? (
            <div class="muted">{d.t('packet.none')}</div>
          ) : (
            <table>
              {f.refunds.map((r) => (
                <tr>
                  <td>
                    <code>{r.couponCode}</code>
                  </td>
                  <td>{r.orderNumber}</td>
                  <td>{d.money(r.refund.amountCents)}</td>
                  <td>{word(d, 'refundStatus', r.refund.status)}</td>
                  <td class="muted">
                    <Ts at={r.refund.createdAt} d={d} />
                  </td>
                </tr>
              ))}
            </table>
          )}
          <h2>{d.t('customer.orders')}</h2>
          <table>
            {f.orders.map((o) => (
              <tr>
                <td class="nowrap">{o.order.orderNumber}</td>
                <td>
                  {o.dealTitle} · {o.merchantName}
                </td>
                <td>
                  {o.coupons.map((cp) => (
                    <span class="coupon">
                      <code>{cp.code}</code> <span class={stateClass(cp.state)}>{word(d, 'couponState', cp.state)}</span>
                    </span>
                  ))}
                </td>
                <td class="muted">{d.day(o.order.createdAt)}</td>
              </tr>
            ))}
          </table>
        </section>
      </div>
    </main>
  );
}

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)} %`);
const fixed = (v: number | null) => (v === null ? '—' : v.toFixed(1));

/** The dashboard's tables, each exportable as CSV with the same headers the page shows. */
export const DashboardTable = z.enum(['overview', 'ages', 'merchants', 'agents']);
export type DashboardTable = z.infer<typeof DashboardTable>;

function dashboardTables(m: Metrics, agentsRows: AgentFigures[], d: DeskText): Record<DashboardTable, { header: string[]; rows: (string | number | null)[][] }> {
  return {
    overview: {
      header: [d.t('dashboard.measure'), d.t('dashboard.value')],
      rows: [
        [d.t('dashboard.slaFirst'), pct(m.sla.firstResponse)],
        [d.t('dashboard.slaResolution'), pct(m.sla.resolution)],
        [d.t('dashboard.firstMedian'), `${fixed(m.firstResponseMinutes.median)} ${d.t('units.min')}`],
        [d.t('dashboard.firstAverage'), `${fixed(m.firstResponseMinutes.average)} ${d.t('units.min')}`],
        [d.t('dashboard.resolutionMedian'), `${fixed(m.resolutionHours.median)} ${d.t('units.h')}`],
        [d.t('dashboard.resolutionAverage'), `${fixed(m.resolutionHours.average)} ${d.t('units.h')}`],
        [d.t('dashboard.containment'), pct(m.botContainment)],
        [d.t('dashboard.handoffRate'), pct(m.handoffRate)],
        [d.t('dashboard.satisfaction'), m.satisfaction.average === null ? '—' : `${m.satisfaction.average.toFixed(2)} / 5 (${m.satisfaction.answers})`],
        [d.t('dashboard.volume'), `${m.conversations} / ${m.handoffs}`],
      ],
    },
    ages: {
      header: m.openByAge.map((a) => d.t(`dashboard.age.${a.bucket.replace(/\W+/g, '_')}`)),
      rows: [m.openByAge.map((a) => a.count)],
    },
    merchants: {
      header: [d.t('dashboard.merchant'), d.t('dashboard.status'), d.t('dashboard.complaints'), d.t('dashboard.orders'), d.t('dashboard.rate')],
      rows: m.merchants.map((row) => [row.name, word(d, 'merchantStatus', row.status), row.complaints, row.orders, pct(row.rate)]),
    },
    agents: {
      header: [
        d.t('dashboard.agent'),
        d.t('dashboard.cases'),
        d.t('dashboard.resolved'),
        d.t('dashboard.firstAverageMin'),
        d.t('dashboard.resolutionAverageH'),
        d.t('dashboard.slaFirst'),
        d.t('dashboard.satisfaction'),
      ],
      rows: agentsRows.map((a) => [
        a.name,
        a.cases,
        a.resolved,
        fixed(a.firstResponseMinutes),
        fixed(a.resolutionHours),
        pct(a.slaFirstResponse),
        a.satisfaction === null ? '—' : `${a.satisfaction.toFixed(2)} (${a.satisfactionAnswers})`,
      ]),
    },
  };
}

function TableOf(props: { table: { header: string[]; rows: (string | number | null)[][] }; caption: string; highlight?: (i: number) => boolean }) {
  return (
    <table>
      <caption class="sr-only">{props.caption}</caption>
      <tr>
        {props.table.header.map((h) => (
          <th scope="col">{h}</th>
        ))}
      </tr>
      {props.table.rows.map((r, i) => (
        <tr class={props.highlight?.(i) ? 'over' : ''}>
          {r.map((v) => (
            <td>{v ?? '—'}</td>
          ))}
        </tr>
      ))}
    </table>
  );
}

function Dashboard(props: { m: Metrics; agents: AgentFigures[]; from: string; to: string; d: DeskText }) {
  const { m, d } = props;
  const tables = dashboardTables(m, props.agents, d);
  const csv = (table: DashboardTable) => `/console/dashboard.csv?table=${table}&from=${props.from}&to=${props.to}`;
  const Export = (p: { table: DashboardTable }) => (
    <a class="export" href={csv(p.table)} download>
      {d.t('dashboard.exportCsv')}
    </a>
  );
  return (
    <main class="page">
      <h1>{d.t('dashboard.title')}</h1>
      <form method="get" class="panel">
        <label>
          {d.t('dashboard.from')} <input type="date" name="from" value={props.from} />
        </label>{' '}
        <label>
          {d.t('dashboard.to')} <input type="date" name="to" value={props.to} />
        </label>{' '}
        <button type="submit">{d.t('dashboard.show')}</button>
      </form>
      <div class="panel-head">
        <h2>{d.t('dashboard.overview')}</h2> <Export table="overview" />
      </div>
      <div class="tiles">
        {tables.overview.rows.map(([l, v]) => (
          <div class="tile">
            <div class="v">{v}</div>
            <div class="l">{l}</div>
          </div>
        ))}
      </div>
      <div class="panel">
        <div class="panel-head">
          <h2>{d.t('dashboard.openByAge')}</h2> <Export table="ages" />
        </div>
        <TableOf table={tables.ages} caption={d.t('dashboard.openByAge')} />
      </div>
      <div class="panel">
        <div class="panel-head">
          <h2>{d.t('dashboard.agents')}</h2> <Export table="agents" />
        </div>
        {props.agents.length === 0 ? <div class="muted">{d.t('packet.none')}</div> : <TableOf table={tables.agents} caption={d.t('dashboard.agents')} />}
      </div>
      <div class="panel">
        <div class="panel-head">
          <h2>{d.t('dashboard.incidence')}</h2> <Export table="merchants" />
        </div>
        <div class="muted">{d.t('dashboard.incidenceNote', { threshold: pct(m.complaintThreshold) })}</div>
        <TableOf table={tables.merchants} caption={d.t('dashboard.incidence')} highlight={(i) => m.merchants[i]?.overThreshold === true} />
      </div>
    </main>
  );
}

const LOGIN_JS = `document.getElementById('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ev.target; const err = document.getElementById('login-error'); err.textContent = '';
  const res = await fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, credentials: 'same-origin',
    body: JSON.stringify({ email: f.email.value, password: f.password.value }) });
  // The server reduced ?next= to a same-origin path (safeNextPath); the raw query is never followed.
  if (res.ok) { location.href = f.dataset.next || '/console'; return; }
  const data = await res.json().catch(() => ({})); err.textContent = f.dataset.failed + ((data.error && data.error.message) ? ' (' + data.error.message + ')' : '');
});`;

/** `/console` pages (login, queue + case view, search, customer page, dashboard) and `/admin`, server-rendered with hono/jsx. */
export function consolePages(deps: ConsoleDeps): { console: Hono; admin: Hono } {
  const auth: AuthDeps = { db: deps.db, clock: deps.clock, sessionTtlMs: deps.sessionTtlMs };
  const page = new Hono();
  const timeZone = deps.timeZone;

  // Pages redirect to the login page instead of answering JSON 401; roles are still enforced.
  const who = async (c: Context, roles: readonly Role[]): Promise<{ actor: Actor; d: DeskText } | Response> => {
    const session = await sessionActor(auth, c);
    if (!session) return c.redirect(`/console/login?next=${encodeURIComponent(c.req.path)}`, 302);
    const d = deskText(await agentLocale(deps.db, session.actor.id), timeZone);
    if (!roles.includes(session.actor.role)) {
      return c.html(
        <Layout title={d.t('forbidden.title')} actor={session.actor} d={d}>
          <div class="empty">{d.t('forbidden.needs', { roles: roles.map((r) => word(d, 'role', r)).join(' / ') })}</div>
        </Layout>,
        403,
      );
    }
    return { actor: session.actor, d };
  };

  page.get('/login', (c) => {
    const d = deskText(anonymousLocale(c), timeZone);
    if (c.req.query('lang')) setCookie(c, LOCALE_COOKIE, d.locale, { path: '/console', sameSite: 'Lax', maxAge: 365 * 86_400 });
    return c.html(
      <Layout title={d.t('login.title')} actor={null} d={d}>
        <main>
          <form class="login" id="login" data-next={safeNextPath(c.req.query('next'))} data-failed={d.t('login.failed')}>
            <h1>{d.t('app.name')}</h1>
            <label for="email">{d.t('login.email')}</label>
            <input id="email" name="email" type="email" autocomplete="username" required />
            <label for="password">{d.t('login.password')}</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
            <button class="primary" type="submit">
              {d.t('login.submit')}
            </button>
            <div class="error" id="login-error" role="alert" />
            <nav class="langs" aria-label={d.t('nav.language')}>
              {Locale.options.map((l) => (
                <a href={`/console/login?lang=${l}`} lang={deskText(l).htmlLang} {...(l === d.locale ? { 'aria-current': 'true' } : {})}>
                  {d.t(`words.locale.${l}`)}
                </a>
              ))}
            </nav>
          </form>
        </main>
        <script>{raw(LOGIN_JS)}</script>
      </Layout>,
    );
  });

  page.get('/', async (c) => {
    const me = await who(c, ['agent', 'manager', 'admin']);
    if (me instanceof Response) return me;
    const { actor, d } = me;
    const legacyQ = c.req.query('q')?.trim();
    if (legacyQ) return c.redirect(`/console/search?q=${encodeURIComponent(legacyQ)}`, 302);
    const requested = QueueView.safeParse(c.req.query('view') ?? 'waiting');
    let view: QueueView = requested.success ? requested.data : 'waiting';
    if (view === 'escalated' && actor.role === 'agent') view = 'waiting';
    const [waiting, mine, escalated, agentsList] = await Promise.all([
      queue(deps.db, actor, 'waiting'),
      queue(deps.db, actor, 'mine'),
      actor.role === 'agent' ? Promise.resolve([]) : queue(deps.db, actor, 'escalated'),
      staff(deps.db),
    ]);
    const rows = view === 'waiting' ? waiting : view === 'mine' ? mine : escalated;
    const wanted = z.uuid().safeParse(c.req.query('c'));
    const selected = wanted.success ? wanted.data : rows[0]?.id;
    const detail = selected ? await caseDetail(deps.db, selected, deps.clock.now()) : null;
    // The case is on the agent's screen: the customer's messages so far are seen.
    if (detail) await markSeenByAgent(deps, detail.case.id, deps.clock.now());
    const afterSales = detail ? await caseAfterSales(deps.db, detail.case.id) : null;
    const active = agentsList.filter((a) => a.active && a.role !== 'admin').map(({ id, name, role }) => ({ id, name, role }));
    const cannedReplies = detail ? await macrosForCase(deps.db, actor, detail) : [];
    return c.html(
      <Layout
        title={d.t(`nav.${view}`)}
        actor={actor}
        d={d}
        active={view}
        caseId={detail?.case.id ?? ''}
        live
        counts={{ waiting: waiting.length, mine: mine.length, escalated: escalated.length }}
      >
        <main class="console">
          <section id="queue" aria-label={d.t('queue.label')}>
            <QueueList rows={rows} view={view} selected={detail?.case.id} d={d} />
          </section>
          <section id="case" aria-label={d.t('case.label')} tabindex={0}>
            {detail ? (
              <>
                <div id="case-head">
                  <CaseHead detail={detail} actor={actor} agents={active} d={d} />
                </div>
                <div id="transcript" tabindex={0} aria-label={d.t('transcript.label')}>
                  <Transcript detail={detail} d={d} />
                </div>
                <div id="composer">
                  {cannedReplies.length > 0 && (
                    <select id="macro-pick" aria-label={d.t('composer.macro')}>
                      <option value="">{d.t('composer.macro')}…</option>
                      {cannedReplies.map((m) => (
                        <option value={m.text}>{m.title}</option>
                      ))}
                    </select>
                  )}
                  <textarea id="reply-text" aria-label={d.t('composer.label')} placeholder={d.t('composer.placeholder')} />
                  <div class="row">
                    <span class="muted">{d.t('composer.hint', { channel: word(d, 'channel', detail.case.channel) })}</span>
                    <span class="buttons">
                      <button data-action="note" data-done={d.t('composer.noted')}>
                        {d.t('composer.note')}
                      </button>{' '}
                      <button class="primary" data-action="reply" data-done={d.t('composer.sent')}>
                        {d.t('composer.send')}
                      </button>
                    </span>
                  </div>
                </div>
              </>
            ) : (
              <div class="empty">{d.t('case.pick')}</div>
            )}
          </section>
          <section id="packet" aria-label={d.t('packet.label')} tabindex={0}>
            {afterSales && <AfterSalesPanel data={afterSales} locale={d.locale} />}
            {detail ? <Packet detail={detail} d={d} /> : <div class="empty">{d.t('packet.empty')}</div>}
          </section>
        </main>
      </Layout>,
    );
  });

  page.get('/search', async (c) => {
    const me = await who(c, ['agent', 'manager', 'admin']);
    if (me instanceof Response) return me;
    const q = (c.req.query('q') ?? '').slice(0, 100);
    const results = await searchEverything(deps.db, q);
    return c.html(
      <Layout title={me.d.t('search.title', { q })} actor={me.actor} d={me.d} q={q}>
        <SearchPage r={results} d={me.d} />
      </Layout>,
    );
  });

  page.get('/customers/:id', async (c) => {
    const me = await who(c, ['agent', 'manager', 'admin']);
    if (me instanceof Response) return me;
    const id = z.uuid().safeParse(c.req.param('id'));
    const file = id.success ? await customerFile(deps.db, id.data) : null;
    if (!file) {
      return c.html(
        <Layout title={me.d.t('customer.notFound')} actor={me.actor} d={me.d}>
          <main class="empty">{me.d.t('customer.notFound')}</main>
        </Layout>,
        404,
      );
    }
    return c.html(
      <Layout title={file.customer.name ?? me.d.t('queue.guest')} actor={me.actor} d={me.d}>
        <CustomerPage f={file} d={me.d} />
      </Layout>,
    );
  });

  const dashboardData = async (c: Context) => {
    const now = deps.clock.now();
    const day = z.iso.date();
    const fromQ = day.safeParse(c.req.query('from'));
    const toQ = day.safeParse(c.req.query('to'));
    const query = MetricsQuery.parse({
      ...(fromQ.success ? { from: `${fromQ.data}T00:00:00Z` } : {}),
      ...(toQ.success ? { to: `${toQ.data}T23:59:59Z` } : {}),
    });
    const period = periodOf(query, now);
    const [m, people] = await Promise.all([consoleMetrics(deps.db, period, now, deps.complaintThreshold), agentFigures(deps.db, period, now)]);
    return { m, people, period };
  };

  page.get('/macros', async (c) => {
    const me = await who(c, MANAGERS);
    if (me instanceof Response) return me;
    const { d } = me;
    const rows = await listMacros(deps.db, me.actor);
    return c.html(
      <Layout title={d.t('macros.title')} actor={me.actor} d={d} active="macros">
        <main class="page" id="macros">
          <h1>{d.t('macros.title')}</h1>
          <p class="muted">{d.t('macros.variables', { list: MACRO_VARIABLES.map((v) => `{{${v}}}`).join(' ') })}</p>
          {rows.map((m) => (
            <form class="panel macro" data-macro={m.id}>
              <label>
                {d.t('macros.name')} <input name="title" value={m.title} required />
              </label>
              {Locale.options.map((l) => (
                <label>
                  {d.t(`words.locale.${l}`)}
                  <textarea name={l} required>
                    {m.body[l]}
                  </textarea>
                </label>
              ))}
              <button class="primary" type="submit" data-done={d.t('macros.saved')}>
                {d.t('macros.save')}
              </button>{' '}
              <button type="button" class="danger" data-delete-macro={m.id} data-done={d.t('macros.deleted')}>
                {d.t('macros.delete')}
              </button>
            </form>
          ))}
          <form class="panel macro" data-macro="">
            <h2>{d.t('macros.new')}</h2>
            <label>
              {d.t('macros.name')} <input name="title" required />
            </label>
            {Locale.options.map((l) => (
              <label>
                {d.t(`words.locale.${l}`)}
                <textarea name={l} required />
              </label>
            ))}
            <button class="primary" type="submit" data-done={d.t('macros.saved')}>
              {d.t('macros.add')}
            </button>
          </form>
        </main>
      </Layout>,
    );
  });

  page.get('/dashboard', async (c) => {
    const me = await who(c, MANAGERS);
    if (me instanceof Response) return me;
    const { m, people, period } = await dashboardData(c);
    return c.html(
      <Layout title={me.d.t('dashboard.title')} actor={me.actor} d={me.d} active="dashboard">
        <Dashboard m={m} agents={people} from={period.from.toISOString().slice(0, 10)} to={period.to.toISOString().slice(0, 10)} d={me.d} />
      </Layout>,
    );
  });

  page.get('/dashboard.csv', async (c) => {
    const me = await who(c, MANAGERS);
    if (me instanceof Response) return me;
    const table = DashboardTable.safeParse(c.req.query('table'));
    if (!table.success) return c.json({ error: { code: 'validation_failed', message: 'table must be one of overview, ages, merchants, agents' } }, 400);
    const { m, people, period } = await dashboardData(c);
    const t = dashboardTables(m, people, me.d)[table.data];
    const name = `kefu-${table.data}-${period.from.toISOString().slice(0, 10)}-${period.to.toISOString().slice(0, 10)}.csv`;
    return c.body(toCsv(t.header, t.rows), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"` });
  });

  const admin = new Hono();
  admin.get('/', async (c) => {
    const me = await who(c, ['admin']);
    if (me instanceof Response) return me;
    const { d } = me;
    const rows = await staff(deps.db);
    return c.html(
      <Layout title={d.t('admin.title')} actor={me.actor} d={d}>
        <main class="page">
          <h1>{d.t('admin.title')}</h1>
          <div class="panel">
            <table>
              <tr>
                <th scope="col">{d.t('admin.name')}</th>
                <th scope="col">{d.t('admin.email')}</th>
                <th scope="col">{d.t('admin.role')}</th>
                <th scope="col">{d.t('admin.active')}</th>
                <th scope="col">{d.t('admin.since')}</th>
              </tr>
              {rows.map((a) => (
                <tr>
                  <td>{a.name}</td>
                  <td>{a.email}</td>
                  <td>{word(d, 'role', a.role)}</td>
                  <td>{a.active ? d.t('admin.yes') : d.t('admin.no')}</td>
                  <td>
                    <Ts at={a.createdAt} d={d} />
                  </td>
                </tr>
              ))}
            </table>
          </div>
        </main>
      </Layout>,
    );
  });

  return { console: page, admin };
}
