import { desc, eq, inArray } from 'drizzle-orm';
import { raw } from 'hono/html';
import type { Locale } from '../core/message.js';
import type { Db } from '../db/client.js';
import { compensations, complaints, merchantResponsePhotos, merchantResponses, merchants } from '../db/schema.js';
import { loadCatalog } from '../i18n/catalog.js';
import { formatDateTime, formatMoney } from '../i18n/format.js';

/** The after-sales side of one case: its complaints, each merchant's answer and photos, decisions, compensation. */
export async function caseAfterSales(db: Db, conversationId: string) {
  const rows = await db
    .select({ complaint: complaints, merchantName: merchants.name, merchantStatus: merchants.status, answer: merchantResponses })
    .from(complaints)
    .leftJoin(merchants, eq(merchants.id, complaints.merchantId))
    .leftJoin(merchantResponses, eq(merchantResponses.complaintId, complaints.id))
    .where(eq(complaints.conversationId, conversationId))
    .orderBy(desc(complaints.createdAt));
  const answerIds = rows.flatMap((r) => (r.answer ? [r.answer.id] : []));
  const photos = answerIds.length
    ? await db
        .select({ id: merchantResponsePhotos.id, responseId: merchantResponsePhotos.responseId, contentType: merchantResponsePhotos.contentType, size: merchantResponsePhotos.size })
        .from(merchantResponsePhotos)
        .where(inArray(merchantResponsePhotos.responseId, answerIds))
    : [];
  const ids = rows.map((r) => r.complaint.id);
  const comp = ids.length ? await db.select().from(compensations).where(inArray(compensations.complaintId, ids)).orderBy(desc(compensations.createdAt)) : [];
  return {
    complaints: rows.map((r) => ({
      id: r.complaint.id,
      ticketNumber: r.complaint.ticketNumber,
      category: r.complaint.category,
      wantedOutcome: r.complaint.wantedOutcome,
      merchantName: r.merchantName,
      merchantStatus: r.merchantStatus,
      merchantNotifiedAt: r.complaint.merchantNotifiedAt,
      merchantDueAt: r.complaint.merchantDueAt,
      merchantMissedAt: r.complaint.merchantMissedAt,
      decision: r.complaint.decision,
      decisionAmountCents: r.complaint.decisionAmountCents,
      decidedAt: r.complaint.decidedAt,
      answer: r.answer
        ? {
            statement: r.answer.statement,
            remedy: r.answer.remedy,
            amountCents: r.answer.amountCents,
            late: r.answer.late,
            createdAt: r.answer.createdAt,
            photos: photos.filter((p) => p.responseId === r.answer?.id).map((p) => ({ id: p.id, url: `/api/console/merchant-photos/${p.id}`, contentType: p.contentType, size: p.size })),
          }
        : null,
      compensations: comp
        .filter((c) => c.complaintId === r.complaint.id)
        .map((c) => ({ id: c.id, amountCents: c.amountCents, status: c.status, reason: c.reason, createdAt: c.createdAt })),
    })),
  };
}
export type CaseAfterSales = Awaited<ReturnType<typeof caseAfterSales>>;

const PANEL_JS = `document.addEventListener('submit', async (ev) => {
  const f = ev.target; if (!f.matches || !f.matches('form[data-aftersales]')) return; ev.preventDefault();
  const body = {}; for (const [k, v] of new FormData(f)) { if (v !== '') body[k] = k.endsWith('Cents') ? Number(v) : v; }
  const res = await fetch(f.getAttribute('action'), { method: 'POST', headers: { 'content-type': 'application/json' }, credentials: 'same-origin', body: JSON.stringify(body) });
  const out = f.querySelector('output'); if (res.ok) { location.reload(); return; }
  const data = await res.json().catch(() => ({})); if (out) out.textContent = (data.error && data.error.message) || res.statusText;
});`;

/** The case's after-sales panel for the console's order-context column. */
export function AfterSalesPanel(props: { data: CaseAfterSales; locale?: Locale; compensationCapCents?: number }) {
  const locale = props.locale ?? 'zh-Hans';
  const w = loadCatalog('aftersales');
  const m = loadCatalog('merchant');
  const t = (k: string, v?: Record<string, string | number>) => w.t(locale, k, v);
  if (props.data.complaints.length === 0) return <></>;
  return (
    <>
      <h2>{t('case.heading')}</h2>
      {props.data.complaints.map((c) => (
        <div class="card" id={`complaint-${c.id}`}>
          <strong>{t('case.ticket', { ticket: c.ticketNumber, category: m.t(locale, `categories.${c.category}`) })}</strong>
          <div class="muted">
            {c.merchantName ?? '—'} ·{' '}
            {c.merchantDueAt ? t('case.merchant_due', { due: formatDateTime(locale, c.merchantDueAt) }) : t('case.not_notified')}
          </div>
          {c.answer ? (
            <div class="merchant-answer">
              <div>
                {t('case.answered', { at: formatDateTime(locale, c.answer.createdAt) })} {c.answer.late && <span class="badge warn">{t('case.late')}</span>}
              </div>
              <div>
                <strong>
                  {t('case.remedy', { remedy: t(`remedies.${c.answer.remedy}`) })}
                  {c.answer.amountCents !== null ? ` ${formatMoney(c.answer.amountCents)}` : ''}
                </strong>
              </div>
              <blockquote>{c.answer.statement}</blockquote>
              {c.answer.photos.length > 0 && (
                <div>
                  {t('case.photos')}:{' '}
                  {c.answer.photos.map((p, i) => (
                    <a href={p.url} target="_blank" rel="noopener">
                      #{i + 1}{' '}
                    </a>
                  ))}
                </div>
              )}
            </div>
          ) : c.merchantMissedAt ? (
            <div class="badge bad">{t('case.missed', { at: formatDateTime(locale, c.merchantMissedAt) })}</div>
          ) : c.merchantDueAt ? (
            <div class="muted">{t('case.waiting')}</div>
          ) : null}
          {c.decidedAt ? (
            <div>
              <span class="badge ok">
                {t('case.decided', { decision: t(`decisions.${c.decision ?? 'rejected'}`), amount: c.decisionAmountCents === null ? '' : formatMoney(c.decisionAmountCents) })}
              </span>
            </div>
          ) : (
            <form data-aftersales action={`/api/console/complaints/${c.id}/decision`}>
              <select name="decision" aria-label={t('case.decide')} required>
                {(['partial_refund', 'refund', 'redo', 'apology', 'rejected'] as const).map((d) => (
                  <option value={d}>{t(`decisions.${d}`)}</option>
                ))}
              </select>{' '}
              <input name="amountCents" type="number" min="1" placeholder={t('case.amount')} aria-label={t('case.amount')} />{' '}
              <input name="note" placeholder={t('case.note')} aria-label={t('case.note')} /> <button class="primary">{t('case.decide')}</button> <output />
            </form>
          )}
          {c.compensations.map((p) => (
            <div class="muted">
              {t('case.compensation')}: {formatMoney(p.amountCents)} · {t(`compensation_status.${p.status}`)}
            </div>
          ))}
          <form data-aftersales action={`/api/console/complaints/${c.id}/compensation`}>
            <input name="amountCents" type="number" min="1" required placeholder={t('case.amount')} aria-label={t('case.amount')} />{' '}
            <input name="reason" required placeholder={t('case.note')} aria-label={t('case.note')} /> <button>{t('case.compensate')}</button>{' '}
            {props.compensationCapCents !== undefined && <span class="muted">{t('case.cap', { cap: formatMoney(props.compensationCapCents) })}</span>} <output />
          </form>
        </div>
      ))}
      <script>{raw(PANEL_JS)}</script>
    </>
  );
}
