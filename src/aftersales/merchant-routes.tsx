import { eq, inArray } from 'drizzle-orm';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { Locale } from '../core/message.js';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import { complaints, coupons, customers, deals, merchantResponses, merchants, orders } from '../db/schema.js';
import { loadCatalog } from '../i18n/catalog.js';
import { formatDateTime, formatMoney } from '../i18n/format.js';
import type { Logger } from '../logger.js';
import { verifyMerchantLink } from './merchant-link.js';
import { type MerchantAnswer, recordMerchantAnswer, Remedy, sniffImage } from './merchant-response.js';
import type { ProgressMessages } from './progress.js';

export interface MerchantRouteDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  secret: string | null;
  wording: ProgressMessages;
  defaultLocale: Locale;
  photoMaxBytes: number;
  photoMaxCount: number;
  /** Called after an answer was recorded (kick the outbox, tell live console views). */
  onAnswered(conversationId: string | null, wroteMessages: boolean): Promise<void> | void;
}

const CSS = `body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:0;background:#f6f7f9;color:#1d2329;font-size:17px;line-height:1.55}
main{max-width:680px;margin:0 auto;padding:16px}h1{font-size:1.35em}section{background:#fff;border-radius:10px;padding:14px 16px;margin:12px 0;box-shadow:0 1px 2px #0001}
dt{font-weight:600;margin-top:6px}dd{margin:0 0 4px}label{display:block;font-weight:600;margin-top:12px}textarea,input[type=number]{width:100%;box-sizing:border-box;font-size:1em;padding:8px;border:1px solid #99a;border-radius:6px}
textarea{min-height:140px}.remedy label{font-weight:400;margin:6px 0}button{margin-top:16px;width:100%;font-size:1.1em;padding:12px;border:0;border-radius:8px;background:#0b6bcb;color:#fff}
.error{background:#fdecea;border:1px solid #e0a3a0;border-radius:8px;padding:10px 14px}.ok{background:#e8f5e9;border:1px solid #9ccc9c;border-radius:8px;padding:10px 14px}.muted{color:#5a6570}nav a{margin-right:10px}`;

const mask = (name: string | null) => (name ? `${[...name][0] ?? ''}${'*'.repeat(Math.max(1, [...name].length - 1))}` : '—');
const maskCode = (code: string) => (code.length <= 4 ? '****' : `${'*'.repeat(code.length - 4)}${code.slice(-4)}`);
const sizeText = (bytes: number) => (bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(1)} MB` : `${Math.round(bytes / 1000)} KB`);

function Page(props: { locale: Locale; title: string; children: unknown }) {
  return (
    <html lang={props.locale}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <meta name="referrer" content="no-referrer" />
        <title>{props.title}</title>
        <style>{CSS}</style>
      </head>
      <body>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

const FormFields = z.object({
  statement: z.string().trim().min(1).max(4000),
  remedy: Remedy,
  amount: z.string().trim().optional(),
});

/** `/merchant/complaints/:id?t=<signed token>`: the merchant's response page, no account needed. */
export function merchantRoutes(deps: MerchantRouteDeps): Hono {
  const app = new Hono();
  const w = loadCatalog('merchant');

  const localeOf = (c: Context): Locale => {
    const l = Locale.safeParse(c.req.query('lang'));
    return l.success ? l.data : deps.defaultLocale;
  };

  /** Checks the link; answers the refusal page, or the complaint's merchant id. */
  const access = async (c: Context, locale: Locale): Promise<{ merchantId: string } | Response> => {
    const id = z.uuid().safeParse(c.req.param('id'));
    const token = c.req.query('t') ?? '';
    const check = deps.secret && id.success ? verifyMerchantLink(deps.secret, token, id.data, deps.clock.now()) : ({ ok: false, reason: 'invalid' } as const);
    if (check.ok) return { merchantId: check.claims.m };
    deps.logger.info({ reason: check.reason }, 'merchant_link.refused');
    return c.html(
      <Page locale={locale} title={w.t(locale, 'denied.title')}>
        <h1>{w.t(locale, 'denied.title')}</h1>
        <p class="error">{w.t(locale, `denied.${check.reason}`)}</p>
      </Page>,
      check.reason === 'expired' ? 410 : 403,
    );
  };

  const load = async (complaintId: string) => {
    const [row] = await deps.db
      .select({ complaint: complaints, merchant: merchants, customerName: customers.name, order: orders, deal: deals })
      .from(complaints)
      .innerJoin(merchants, eq(merchants.id, complaints.merchantId))
      .innerJoin(customers, eq(customers.id, complaints.customerId))
      .leftJoin(orders, eq(orders.id, complaints.orderId))
      .leftJoin(deals, eq(deals.id, orders.dealId))
      .where(eq(complaints.id, complaintId));
    if (!row) return null;
    const codes = row.order ? await deps.db.select({ code: coupons.code }).from(coupons).where(inArray(coupons.orderId, [row.order.id])) : [];
    const [answer] = await deps.db.select().from(merchantResponses).where(eq(merchantResponses.complaintId, complaintId));
    return { ...row, codes: codes.map((c) => c.code), answer };
  };

  const render = async (c: Context, locale: Locale, merchantId: string, state: { errors?: string[]; status?: 200 | 409 | 413 | 422; thanks?: boolean }) => {
    const complaintId = c.req.param('id') ?? '';
    const data = await load(complaintId);
    // A valid link names its merchant: another merchant's complaint is refused, never shown.
    if (!data || data.merchant.id !== merchantId) {
      return c.html(
        <Page locale={locale} title={w.t(locale, 'denied.title')}>
          <h1>{w.t(locale, 'denied.title')}</h1>
          <p class="error">{w.t(locale, 'denied.other_complaint')}</p>
        </Page>,
        403,
      );
    }
    const { complaint, deal, order } = data;
    const t = (key: string, vars?: Record<string, string | number>) => w.t(locale, key, vars);
    const due = complaint.merchantDueAt ? formatDateTime(locale, complaint.merchantDueAt) : '—';
    const self = `/merchant/complaints/${complaintId}?t=${encodeURIComponent(c.req.query('t') ?? '')}`;
    const title = t('page.title', { ticket: complaint.ticketNumber });
    return c.html(
      <Page locale={locale} title={title}>
        <nav aria-label={t('page.language')}>
          {Locale.options.map((l) => (
            <a href={`${self}&lang=${l}`} lang={l}>
              {/* Each language named in itself (locales/<l>/common.yaml). */}
              {loadCatalog('common').t(l, `locale.${l}`)}
            </a>
          ))}
        </nav>
        <h1>{title}</h1>
        <p>{t('page.intro', { merchant: data.merchant.name, due })}</p>
        {state.thanks && (
          <p class="ok" role="status">
            {t('page.thanks')}
          </p>
        )}
        <section>
          <h2>{t('page.complaint')}</h2>
          <dl>
            <dt>{t('page.customer')}</dt>
            <dd>{mask(data.customerName)}</dd>
            <dt>{t('page.category')}</dt>
            <dd>{t(`categories.${complaint.category}`)}</dd>
            <dt>{t('page.description')}</dt>
            <dd>{complaint.description}</dd>
            {complaint.occurredAt && (
              <>
                <dt>{t('page.occurred')}</dt>
                <dd>{complaint.occurredAt}</dd>
              </>
            )}
            <dt>{t('page.wanted')}</dt>
            <dd>{t(`wanted.${complaint.wantedOutcome}`)}</dd>
          </dl>
          {complaint.attachments.length > 0 && <p class="muted">{t('page.photos_from_customer', { count: complaint.attachments.length })}</p>}
        </section>
        {deal && order && (
          <section>
            <h2>{t('page.deal')}</h2>
            <p>
              <strong>{deal.title}</strong>
            </p>
            <p>
              {t('page.included')}: {deal.included.map((i) => `${i.item} ×${i.quantity}`).join('、')}
            </p>
            <p>{t('page.valid', { from: deal.validFrom, to: deal.validTo, hoursFrom: deal.hoursFrom, hoursTo: deal.hoursTo })}</p>
            <p>{t('page.price', { price: formatMoney(deal.priceCents), original: formatMoney(deal.originalPriceCents) })}</p>
            {deal.usageNotes && <p class="muted">{deal.usageNotes}</p>}
            <p class="muted">{t('page.order', { order: order.orderNumber, coupons: data.codes.map(maskCode).join(', ') })}</p>
          </section>
        )}
        <section>
          <h2>{t('page.your_answer')}</h2>
          {data.answer ? (
            <>
              <p class="ok">{t('page.already', { at: formatDateTime(locale, data.answer.createdAt) })}</p>
              <p>
                <strong>{t(`remedies.${data.answer.remedy}`)}</strong>
                {data.answer.amountCents !== null ? ` ${formatMoney(data.answer.amountCents)}` : ''}
              </p>
              <p>{data.answer.statement}</p>
            </>
          ) : (
            <form method="post" action={`${self}&lang=${locale}`} enctype="multipart/form-data">
              <p class="muted">{t('page.deadline', { due })}</p>
              {state.errors && state.errors.length > 0 && (
                <div class="error" role="alert">
                  <p>{t('errors.heading')}</p>
                  <ul>
                    {state.errors.map((e) => (
                      <li>{e}</li>
                    ))}
                  </ul>
                </div>
              )}
              <label for="statement">{t('page.statement')}</label>
              <textarea id="statement" name="statement" required maxlength={4000} />
              <fieldset class="remedy">
                <legend>{t('page.remedy')}</legend>
                {Remedy.options.map((r) => (
                  <label>
                    <input type="radio" name="remedy" value={r} required /> {t(`remedies.${r}`)}
                  </label>
                ))}
              </fieldset>
              <label for="amount">{t('page.amount')}</label>
              <input id="amount" name="amount" type="number" min="0.01" step="0.01" inputmode="decimal" />
              {deps.photoMaxCount > 0 && (
                <>
                  <label for="photos">{t('page.photos', { max: deps.photoMaxCount, size: sizeText(deps.photoMaxBytes) })}</label>
                  <input id="photos" name="photos" type="file" accept="image/jpeg,image/png,image/gif,image/webp" multiple />
                </>
              )}
              <button type="submit">{t('page.submit')}</button>
            </form>
          )}
        </section>
      </Page>,
      state.status ?? 200,
    );
  };

  app.get('/complaints/:id', async (c) => {
    const locale = localeOf(c);
    const ok = await access(c, locale);
    if (ok instanceof Response) return ok;
    return render(c, locale, ok.merchantId, {});
  });

  const limit = bodyLimit({
    maxSize: deps.photoMaxCount * deps.photoMaxBytes + 64 * 1024,
    onError: async (c) => {
      const locale = localeOf(c);
      const ok = await access(c, locale);
      if (ok instanceof Response) return ok;
      return render(c, locale, ok.merchantId, {
        status: 413,
        errors: [w.t(locale, 'errors.photo_size', { name: '…', size: sizeText(deps.photoMaxBytes) })],
      });
    },
  });

  app.post('/complaints/:id', limit, async (c) => {
    const locale = localeOf(c);
    const ok = await access(c, locale);
    if (ok instanceof Response) return ok;
    const t = (key: string, vars?: Record<string, string | number>) => w.t(locale, key, vars);
    let body: Record<string, string | File | (string | File)[]>;
    try {
      body = await c.req.parseBody({ all: true });
    } catch {
      return render(c, locale, ok.merchantId, { status: 422, errors: [t('errors.statement')] });
    }
    const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);
    const fields = FormFields.safeParse({ statement: first(body.statement), remedy: first(body.remedy), amount: first(body.amount) || undefined });
    const errors: string[] = [];
    if (!fields.success) {
      for (const issue of fields.error.issues) {
        const key = issue.path[0] === 'remedy' ? 'errors.remedy' : 'errors.statement';
        if (!errors.includes(t(key))) errors.push(t(key));
      }
    }
    let amountCents: number | null = null;
    if (fields.success && fields.data.remedy === 'partial_refund') {
      const yuan = Number(fields.data.amount ?? '');
      amountCents = Number.isFinite(yuan) ? Math.round(yuan * 100) : 0;
      if (amountCents <= 0 || amountCents > 10_000_000) errors.push(t('errors.amount'));
    }
    const files = (Array.isArray(body.photos) ? body.photos : body.photos === undefined ? [] : [body.photos]).filter(
      (f): f is File => typeof f !== 'string' && f.size > 0,
    );
    const photos: MerchantAnswer['photos'] = [];
    if (files.length > deps.photoMaxCount) errors.push(t('errors.photo_count', { max: deps.photoMaxCount }));
    else {
      for (const file of files) {
        if (file.size > deps.photoMaxBytes) {
          errors.push(t('errors.photo_size', { name: file.name, size: sizeText(deps.photoMaxBytes) }));
          continue;
        }
        const bytes = Buffer.from(await file.arrayBuffer());
        const type = sniffImage(bytes);
        if (!type) errors.push(t('errors.photo_type', { name: file.name }));
        else photos.push({ contentType: type, bytes });
      }
    }
    if (!fields.success || errors.length > 0) return render(c, locale, ok.merchantId, { status: 422, errors });
    const complaintId = c.req.param('id');
    const result = await recordMerchantAnswer(
      deps.db,
      deps.wording,
      { complaintId, merchantId: ok.merchantId, answer: { statement: fields.data.statement, remedy: fields.data.remedy, amountCents, photos } },
      deps.clock.now(),
    );
    if (!result.ok) return render(c, locale, ok.merchantId, { status: result.code === 'already_answered' ? 409 : 200 });
    deps.logger.info({ complaintId, photos: photos.length }, 'merchant.answered');
    await deps.onAnswered(result.conversationId, result.wroteMessages);
    return render(c, locale, ok.merchantId, { thanks: true });
  });

  return app;
}
