import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hono, type Context } from 'hono';
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { z } from 'zod';
import type { HandoffPacket } from '../actions/handoff-context.js';
import { type AuthDeps, MANAGERS, type Role, sessionActor } from './auth.js';
import { type Actor, ResolutionCode } from './cases.js';
import { consoleMetrics, type Metrics, MetricsQuery } from './metrics.js';
import { caseDetail, type CaseDetail, type CaseRow, queue, QueueView, searchCases, staff } from './queries.js';
import type { ConsoleDeps } from './api-routes.js';
import { periodOf } from './api-routes.js';
import { attachmentLinks } from './attachments.js';

const CSS = readFileSync(join(import.meta.dirname, 'assets/console.css'), 'utf8');
const JS = readFileSync(join(import.meta.dirname, 'assets/console.js'), 'utf8');

const money = (cents: number) => `¥${(cents / 100).toFixed(2)}`;
const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)} %`);
const fixed = (v: number | null, unit: string) => (v === null ? '—' : `${v.toFixed(1)} ${unit}`);
const WEEKDAYS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

function Ts(props: { at: Date | string | null }) {
  if (props.at === null) return <span>—</span>;
  const iso = typeof props.at === 'string' ? props.at : props.at.toISOString();
  return <span data-ts={iso}>{iso.slice(0, 16).replace('T', ' ')}</span>;
}

function Layout(props: { title: string; actor: Actor | null; active?: string; caseId?: string; live?: boolean; counts?: Record<string, number>; q?: string; children: Child }) {
  const { actor } = props;
  const manager = actor !== null && actor.role !== 'agent';
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · kefu console</title>
        <style>{raw(CSS)}</style>
      </head>
      <body data-case={props.caseId ?? ''} data-live={props.live ? '1' : '0'}>
        {actor && (
          <header class="top">
            <a class="brand" href="/console">kefu console</a>
            <nav id="tabs">
              {(['waiting', 'mine', ...(manager ? ['escalated'] : [])] as const).map((v) => (
                <a href={`/console?view=${v}`} class={props.active === v ? 'on' : ''}>
                  {v === 'waiting' ? 'Waiting' : v === 'mine' ? 'Mine' : 'Escalated'} <span class="count">{props.counts?.[v] ?? ''}</span>
                </a>
              ))}
              {manager && (
                <a href="/console/dashboard" class={props.active === 'dashboard' ? 'on' : ''}>
                  Dashboard
                </a>
              )}
              {actor.role === 'admin' && <a href="/admin">Admin</a>}
            </nav>
            <form method="get" action="/console">
              <input type="search" name="q" value={props.q ?? ''} placeholder="Phone, order, coupon, name, ticket" aria-label="Search" />
            </form>
            <span class="spacer" />
            <span>
              {actor.name} <span class="badge">{actor.role}</span>
            </span>
            <button data-action="logout">Log out</button>
          </header>
        )}
        {props.children}
        <div id="toast" role="status" />
        <script>{raw(JS)}</script>
      </body>
    </html>
  );
}

function Due(props: { row: Pick<CaseRow, 'firstHumanReplyAt' | 'firstResponseDueAt' | 'resolutionDueAt' | 'handoffAt' | 'status'> }) {
  const { row } = props;
  if (row.status !== 'waiting' && row.status !== 'assigned') return <span class="badge ok">{row.status}</span>;
  const firstOpen = row.firstHumanReplyAt === null;
  const due = firstOpen ? row.firstResponseDueAt : row.resolutionDueAt;
  if (!due) return <span />;
  const span = row.handoffAt ? due.getTime() - row.handoffAt.getTime() : 3600_000;
  return (
    <span>
      <span class="muted">{firstOpen ? 'reply ' : 'resolve '}</span>
      <span class="due" data-due={due.toISOString()} data-span={String(span)}>
        {due.toISOString().slice(11, 16)}
      </span>
    </span>
  );
}

function QueueList(props: { rows: CaseRow[]; view: string; selected?: string | undefined; q?: string | undefined }) {
  if (props.rows.length === 0) return <div class="empty">{props.q ? 'Nothing found.' : 'No cases here. 🎉'}</div>;
  const base = props.q ? `/console?q=${encodeURIComponent(props.q)}` : `/console?view=${props.view}`;
  return (
    <ol>
      {props.rows.map((r) => (
        <li>
          <a href={`${base}&c=${r.id}`} class={r.id === props.selected ? 'on' : ''} data-case-link={r.id}>
            <div class="row">
              <strong>{r.customerName ?? 'Guest'}</strong>
              <Due row={r} />
            </div>
            <div class="row">
              <span class="muted">
                {r.ticketNumber} · {r.reason} · {r.channel}
              </span>
              <span>
                {r.priority > 0 && <span class={`badge p${Math.min(r.priority, 3)}`}>P{r.priority}</span>}{' '}
                {r.escalated && <span class="badge bad">escalated</span>} {r.firstTimeUser && <span class="badge warn">first-time</span>}
              </span>
            </div>
            <div class="muted">
              {r.ownerName ? `Owner: ${r.ownerName}` : 'Unclaimed'}
              {r.transferToName ? ` → offered to ${r.transferToName}` : ''}
            </div>
          </a>
        </li>
      ))}
    </ol>
  );
}

function CaseHead(props: { detail: CaseDetail; actor: Actor; agents: { id: string; name: string; role: Role }[] }) {
  const { detail, actor } = props;
  const c = detail.case;
  const mine = c.ownerAgentId === actor.id;
  const manager = actor.role !== 'agent';
  const open = c.status === 'waiting' || c.status === 'assigned';
  return (
    <div>
      <h1>
        {detail.handoff?.ticketNumber ?? 'Conversation'} · {c.customerName ?? 'Guest'}{' '}
        <span class="badge">{c.status}</span> {c.escalated && <span class="badge bad">escalated</span>}
      </h1>
      <div class="muted">
        {c.channel} · {c.locale} · reason {detail.handoff?.reason ?? '—'} · owner {c.ownerName ?? 'none'}
        {c.transferToName ? ` · offered to ${c.transferToName}` : ''} · handed off <Ts at={c.handoffAt} /> · <Due row={c} />
        {c.resolutionCode ? ` · resolved: ${c.resolutionCode}` : ''}
        {c.satisfaction !== null ? ` · satisfaction ${c.satisfaction}/5` : ''}
      </div>
      {open && (
        <div class="actions">
          {c.status === 'waiting' && (
            <button class="primary" data-action="claim" data-done="Claimed: the case is yours">
              Claim
            </button>
          )}
          {c.transferToAgentId === actor.id && (
            <button class="primary" data-action="accept" data-done="Transfer accepted">
              Accept transfer
            </button>
          )}
          {(mine || manager) && c.status === 'assigned' && (
            <>
              <select id="transfer-to" aria-label="Transfer to">
                <option value="">Transfer to…</option>
                {props.agents
                  .filter((a) => a.id !== c.ownerAgentId)
                  .map((a) => (
                    <option value={a.id}>
                      {a.name} ({a.role})
                    </option>
                  ))}
              </select>
              <button data-action="transfer" data-done="Transfer offered">
                Transfer
              </button>
              {manager && (
                <button data-action="reassign" data-done="Reassigned">
                  Reassign now
                </button>
              )}
            </>
          )}
          {(mine || manager || c.ownerAgentId === null) && !c.escalated && (
            <button class="danger" data-action="escalate" data-done="Escalated to the managers">
              Escalate
            </button>
          )}
          {(mine || manager) && c.status === 'assigned' && (
            <>
              <select id="resolution-code" aria-label="Resolution code">
                <option value="">Resolution…</option>
                {ResolutionCode.options.map((code) => (
                  <option value={code}>{code.replace('_', ' ')}</option>
                ))}
              </select>
              <button data-action="resolve" data-done="Resolved; the customer was asked for a rating">
                Resolve
              </button>
            </>
          )}
        </div>
      )}
    </div>
  );
}

function Transcript(props: { detail: CaseDetail }) {
  return (
    <>
      {props.detail.transcript.map((m) => {
        const kind = m.direction === 'internal' ? 'internal' : m.author;
        const who = m.direction === 'internal' ? `Note · ${m.agentName ?? ''}` : m.author === 'agent' ? `Agent · ${m.agentName ?? ''}` : m.author;
        return (
          <div class={`msg ${kind}`}>
            <div class="who">
              {who} · <Ts at={m.createdAt} />
              {m.direction === 'out' && m.deliveryStatus !== 'sent' ? ` · ${m.deliveryStatus}` : ''}
            </div>
            {m.text}
            {attachmentLinks(m.attachments).map((a) => (
              <div class="attachment">
                <a href={`/api/console/attachments/${a.id}`} target="_blank" rel="noopener">
                  {a.image ? <img src={`/api/console/attachments/${a.id}`} alt={a.name ?? 'photo'} style="max-width:240px;max-height:240px;display:block" /> : `📎 ${a.name ?? 'file'}`}
                </a>
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

function Packet(props: { detail: CaseDetail; actor: Actor }) {
  const p: HandoffPacket = props.detail.packet;
  const h = props.detail.handoff;
  const slots = h ? Object.entries(h.slots) : [];
  return (
    <>
      <h2>Summary</h2>
      <div class="card">
        <pre class="summary">{h?.summary ?? '—'}</pre>
        {h?.callbackPhone && <div>Call back: {h.callbackPhone}</div>}
      </div>
      {slots.length > 0 && (
        <>
          <h2>Collected by the bot</h2>
          <div class="card">
            <table>
              {slots.map(([k, v]) => (
                <tr>
                  <th>{k}</th>
                  <td>{typeof v === 'string' ? v : JSON.stringify(v)}</td>
                </tr>
              ))}
            </table>
          </div>
        </>
      )}
      <h2>Customer</h2>
      <div class="card">
        <strong>{p.customer.name ?? 'Guest'}</strong> {p.customer.firstTimeUser && <span class="badge warn">first-time user</span>}{' '}
        {p.customer.guest && <span class="badge">guest</span>}
        <div class="muted">
          {p.customer.phone ?? 'no phone'} · {p.customer.email ?? 'no email'} · {p.customer.locale}
        </div>
        <div class="muted">
          Channels:{' '}
          {p.customer.channels.map((ch) => `${ch.channel}${ch.displayName ? ` (${ch.displayName})` : ''}${ch.unreachable ? ' – unreachable' : ''}`).join(', ')}
        </div>
      </div>
      {props.detail.refundsUnderReview.length > 0 && (
        <>
          <h2>Refunds under review</h2>
          <div class="card">
            <table>
              {props.detail.refundsUnderReview.map((r) => (
                <tr>
                  <td>{r.couponCode}</td>
                  <td>{money(r.amountCents)}</td>
                  <td class="muted">{r.policy}</td>
                  <td>
                    <button class="primary" data-action="approve" data-refund={r.id} data-done="Refund approved">
                      Approve
                    </button>{' '}
                    <button class="danger" data-action="deny" data-refund={r.id} data-done="Refund denied">
                      Deny
                    </button>
                  </td>
                </tr>
              ))}
            </table>
          </div>
        </>
      )}
      <h2>Recent orders</h2>
      <div class="card" id="orders">
        {p.orders.length === 0 && <div class="muted">No orders.</div>}
        {p.orders.map((o) => (
          <div class="order">
            <div class="row">
              <strong>{o.orderNumber}</strong>
              <span class="muted">
                <Ts at={o.createdAt} />
              </span>
            </div>
            <div>
              {o.deal.title} · {o.quantity} × {money(o.deal.priceCents)} <span class="muted">(was {money(o.deal.originalPriceCents)})</span>
            </div>
            <div class="terms">
              Includes {o.deal.included.map((i) => `${i.item} ×${i.quantity}`).join(', ')}. Valid {o.deal.validFrom} – {o.deal.validTo},{' '}
              {o.deal.weekdays.map((d) => WEEKDAYS[d] ?? d).join('/')} {o.deal.hoursFrom}–{o.deal.hoursTo}
              {o.deal.reservationRequired ? ', reservation needed' : ''}. Refund:{' '}
              {o.deal.refundAnytime ? 'anytime (unused)' : o.deal.refundOnExpiry ? 'on expiry (unused)' : 'no refund terms'}.
              {o.deal.usageNotes ? ` ${o.deal.usageNotes}` : ''}
            </div>
            <div class="muted">
              Merchant {o.merchant.name} · <span class={o.merchant.status === 'active' ? 'badge ok' : 'badge bad'}>{o.merchant.status}</span> ·{' '}
              {o.merchant.complaintCount} complaints · {o.merchant.phone}
            </div>
            <table>
              {o.coupons.map((cp) => (
                <tr>
                  <td>
                    <code>{cp.code}</code>
                  </td>
                  <td>
                    <span class={cp.state === 'unused' ? 'badge ok' : cp.state === 'used' ? 'badge' : 'badge warn'}>{cp.state}</span>
                  </td>
                  <td class="muted">expires {cp.expiresAt.slice(0, 10)}</td>
                </tr>
              ))}
            </table>
          </div>
        ))}
      </div>
      <h2>Refund history</h2>
      <div class="card">
        {p.refunds.length === 0 ? (
          <div class="muted">None.</div>
        ) : (
          <table>
            {p.refunds.map((r) => (
              <tr>
                <td>{r.couponCode}</td>
                <td>{money(r.amountCents)}</td>
                <td>{r.status}</td>
                <td class="muted">
                  <Ts at={r.createdAt} />
                </td>
              </tr>
            ))}
          </table>
        )}
      </div>
      <h2>Earlier conversations</h2>
      <div class="card">
        {p.earlierConversations.length === 0 ? (
          <div class="muted">None.</div>
        ) : (
          <table>
            {p.earlierConversations.map((e) => (
              <tr>
                <td>
                  <a href={`/console?c=${e.id}`}>{e.ticketNumber ?? e.channel}</a>
                </td>
                <td>{e.reason ?? ''}</td>
                <td>{e.resolutionCode ?? e.status}</td>
                <td class="muted">
                  <Ts at={e.createdAt} />
                </td>
              </tr>
            ))}
          </table>
        )}
      </div>
    </>
  );
}

function Dashboard(props: { m: Metrics; from: string; to: string }) {
  const { m } = props;
  const tiles: [string, string][] = [
    ['First reply within SLA', pct(m.sla.firstResponse)],
    ['Resolved within SLA', pct(m.sla.resolution)],
    ['First reply (median)', fixed(m.firstResponseMinutes.median, 'min')],
    ['First reply (average)', fixed(m.firstResponseMinutes.average, 'min')],
    ['Resolution (median)', fixed(m.resolutionHours.median, 'h')],
    ['Resolution (average)', fixed(m.resolutionHours.average, 'h')],
    ['Bot containment', pct(m.botContainment)],
    ['Handoff rate', pct(m.handoffRate)],
    ['Satisfaction', m.satisfaction.average === null ? '—' : `${m.satisfaction.average.toFixed(2)} / 5 (${m.satisfaction.answers})`],
    ['Conversations / handoffs', `${m.conversations} / ${m.handoffs}`],
  ];
  return (
    <div class="page">
      <h1>Dashboard</h1>
      <form method="get" class="panel">
        From <input type="date" name="from" value={props.from} /> to <input type="date" name="to" value={props.to} /> <button type="submit">Show</button>
      </form>
      <div class="tiles">
        {tiles.map(([l, v]) => (
          <div class="tile">
            <div class="v">{v}</div>
            <div class="l">{l}</div>
          </div>
        ))}
      </div>
      <div class="panel">
        <strong>Open cases by age</strong>
        <table>
          <tr>
            {m.openByAge.map((a) => (
              <th>{a.bucket}</th>
            ))}
          </tr>
          <tr>
            {m.openByAge.map((a) => (
              <td>{a.count}</td>
            ))}
          </tr>
        </table>
      </div>
      <div class="panel">
        <strong>Complaint incidence per merchant</strong> <span class="muted">(complaints per order; highlighted above {pct(m.complaintThreshold)})</span>
        <table>
          <tr>
            <th>Merchant</th>
            <th>Status</th>
            <th>Complaints</th>
            <th>Orders</th>
            <th>Rate</th>
          </tr>
          {m.merchants.map((row) => (
            <tr class={row.overThreshold ? 'over' : ''}>
              <td>{row.name}</td>
              <td>{row.status}</td>
              <td>{row.complaints}</td>
              <td>{row.orders}</td>
              <td>{pct(row.rate)}</td>
            </tr>
          ))}
        </table>
      </div>
    </div>
  );
}

const LOGIN_JS = `document.getElementById('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ev.target; const err = document.getElementById('login-error'); err.textContent = '';
  const res = await fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, credentials: 'same-origin',
    body: JSON.stringify({ email: f.email.value, password: f.password.value }) });
  if (res.ok) { location.href = new URLSearchParams(location.search).get('next') || '/console'; return; }
  const data = await res.json().catch(() => ({})); err.textContent = (data.error && data.error.message) || 'Login failed';
});`;

/** `/console` pages (login, queue + case view, dashboard) and `/admin`, server-rendered with hono/jsx. */
export function consolePages(deps: ConsoleDeps): { console: Hono; admin: Hono } {
  const auth: AuthDeps = { db: deps.db, clock: deps.clock, sessionTtlMs: deps.sessionTtlMs };
  const page = new Hono();

  // Pages redirect to the login page instead of answering JSON 401; roles are still enforced.
  const who = async (c: Context, roles: readonly Role[]): Promise<Actor | Response> => {
    const session = await sessionActor(auth, c);
    if (!session) return c.redirect(`/console/login?next=${encodeURIComponent(c.req.path)}`, 302);
    if (!roles.includes(session.actor.role)) {
      return c.html(
        <Layout title="Not allowed" actor={session.actor}>
          <div class="empty">This page needs the role {roles.join(' or ')}.</div>
        </Layout>,
        403,
      );
    }
    return session.actor;
  };

  page.get('/login', (c) =>
    c.html(
      <Layout title="Log in" actor={null}>
        <form class="login" id="login">
          <h1>kefu console</h1>
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autocomplete="username" required />
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required />
          <button class="primary" type="submit">
            Log in
          </button>
          <div class="error" id="login-error" role="alert" />
        </form>
        <script>{raw(LOGIN_JS)}</script>
      </Layout>,
    ),
  );

  page.get('/', async (c) => {
    const actor = await who(c, ['agent', 'manager', 'admin']);
    if (actor instanceof Response) return actor;
    const q = c.req.query('q')?.trim() || undefined;
    const requested = QueueView.safeParse(c.req.query('view') ?? 'waiting');
    let view: QueueView = requested.success ? requested.data : 'waiting';
    if (view === 'escalated' && actor.role === 'agent') view = 'waiting';
    const [waiting, mine, escalated, agentsList] = await Promise.all([
      queue(deps.db, actor, 'waiting'),
      queue(deps.db, actor, 'mine'),
      actor.role === 'agent' ? Promise.resolve([]) : queue(deps.db, actor, 'escalated'),
      staff(deps.db),
    ]);
    const rows = q ? await searchCases(deps.db, q) : view === 'waiting' ? waiting : view === 'mine' ? mine : escalated;
    const wanted = z.uuid().safeParse(c.req.query('c'));
    const selected = wanted.success ? wanted.data : rows[0]?.id;
    const detail = selected ? await caseDetail(deps.db, selected) : null;
    const active = agentsList.filter((a) => a.active && a.role !== 'admin').map(({ id, name, role }) => ({ id, name, role }));
    return c.html(
      <Layout
        title={q ? `Search ${q}` : view}
        actor={actor}
        active={q ? '' : view}
        caseId={detail?.case.id ?? ''}
        live
        counts={{ waiting: waiting.length, mine: mine.length, escalated: escalated.length }}
        {...(q ? { q } : {})}
      >
        <main class="console">
          <section id="queue" aria-label="Queue">
            <QueueList rows={rows} view={view} selected={detail?.case.id} q={q} />
          </section>
          <section id="case" aria-label="Conversation" tabindex={0}>
            {detail ? (
              <>
                <div id="case-head">
                  <CaseHead detail={detail} actor={actor} agents={active} />
                </div>
                <div id="transcript">
                  <Transcript detail={detail} />
                </div>
                <div id="composer">
                  <textarea id="reply-text" placeholder="Reply to the customer (goes out through their channel), or write an internal note" />
                  <div class="row">
                    <span class="muted">Replies reach the customer in {detail.case.channel}; notes stay internal.</span>
                    <span>
                      <button data-action="note" data-done="Note added">
                        Add internal note
                      </button>{' '}
                      <button class="primary" data-action="reply" data-done="Reply sent">
                        Send reply
                      </button>
                    </span>
                  </div>
                </div>
              </>
            ) : (
              <div class="empty">Pick a case from the queue.</div>
            )}
          </section>
          <section id="packet" aria-label="Order context">
            {detail ? <Packet detail={detail} actor={actor} /> : <div class="empty">The order context appears here.</div>}
          </section>
        </main>
      </Layout>,
    );
  });

  page.get('/dashboard', async (c) => {
    const actor = await who(c, MANAGERS);
    if (actor instanceof Response) return actor;
    const now = deps.clock.now();
    const day = z.iso.date();
    const fromQ = day.safeParse(c.req.query('from'));
    const toQ = day.safeParse(c.req.query('to'));
    const query = MetricsQuery.parse({
      ...(fromQ.success ? { from: `${fromQ.data}T00:00:00Z` } : {}),
      ...(toQ.success ? { to: `${toQ.data}T23:59:59Z` } : {}),
    });
    const period = periodOf(query, now);
    const m = await consoleMetrics(deps.db, period, now, deps.complaintThreshold);
    return c.html(
      <Layout title="Dashboard" actor={actor} active="dashboard">
        <Dashboard m={m} from={period.from.toISOString().slice(0, 10)} to={period.to.toISOString().slice(0, 10)} />
      </Layout>,
    );
  });

  const admin = new Hono();
  admin.get('/', async (c) => {
    const actor = await who(c, ['admin']);
    if (actor instanceof Response) return actor;
    const rows = await staff(deps.db);
    return c.html(
      <Layout title="Admin" actor={actor}>
        <div class="page">
          <h1>Console users</h1>
          <div class="panel">
            <table>
              <tr>
                <th>Name</th>
                <th>Email</th>
                <th>Role</th>
                <th>Active</th>
                <th>Since</th>
              </tr>
              {rows.map((a) => (
                <tr>
                  <td>{a.name}</td>
                  <td>{a.email}</td>
                  <td>{a.role}</td>
                  <td>{a.active ? 'yes' : 'no'}</td>
                  <td>
                    <Ts at={a.createdAt} />
                  </td>
                </tr>
              ))}
            </table>
          </div>
        </div>
      </Layout>,
    );
  });

  return { console: page, admin };
}
