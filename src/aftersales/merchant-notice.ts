import { eq } from 'drizzle-orm';
import type { Locale } from '../core/message.js';
import type { DbOrTx, Tx } from '../db/client.js';
import { auditLog, complaints, deals, merchants, orders, timers } from '../db/schema.js';
import { loadCatalog } from '../i18n/catalog.js';
import { formatDateTime } from '../i18n/format.js';
import { queueMail } from './mail-outbox.js';
import { merchantContactEmail } from './merchant-contact.js';
import { signMerchantLink } from './merchant-link.js';

export const MERCHANT_REMINDER = 'merchant.reminder';
export const MERCHANT_DEADLINE = 'merchant.deadline';

export interface MerchantNoticeDeps {
  /** Null: merchants are not mailed (no MERCHANT_LINK_SECRET outside demo mode). */
  secret: string | null;
  publicUrl: string;
  demoMode: boolean;
  responseHours: number;
  reminderRatio: number;
  /** The language of merchant mail and pages unless the page is asked for another. */
  merchantLocale: Locale;
}

/** The response page URL for a complaint, signed for its merchant until `due`. */
export function responseLink(deps: Pick<MerchantNoticeDeps, 'publicUrl'>, secret: string, complaintId: string, merchantId: string, due: Date): string {
  const token = signMerchantLink(secret, { complaintId, merchantId, expiresAt: due });
  return `${deps.publicUrl.replace(/\/$/, '')}/merchant/complaints/${complaintId}?t=${token}`;
}

async function complaintForMail(db: DbOrTx, complaintId: string) {
  const [row] = await db
    .select({ complaint: complaints, merchant: merchants, dealTitle: deals.title })
    .from(complaints)
    .innerJoin(merchants, eq(merchants.id, complaints.merchantId))
    .leftJoin(orders, eq(orders.id, complaints.orderId))
    .leftJoin(deals, eq(deals.id, orders.dealId))
    .where(eq(complaints.id, complaintId));
  return row;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function asHtml(text: string): string {
  const body = text
    .split(/\n{2,}/)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>').replace(/(https?:\/\/\S+)/g, '<a href="$1">$1</a>')}</p>`)
    .join('\n');
  return `<!doctype html><html><body style="font-size:16px;line-height:1.6">${body}</body></html>`;
}

/**
 * Called in the transaction that opened a complaint against a merchant: sets the merchant's
 * deadline, queues the notice mail with a signed response link (exactly once per complaint), and
 * schedules the reminder (at the reminder ratio of the window) and the deadline timers.
 */
export async function notifyMerchant(tx: Tx, deps: MerchantNoticeDeps, complaintId: string, now: Date): Promise<boolean> {
  const row = await complaintForMail(tx, complaintId);
  if (!row || !deps.secret) return false;
  const to = merchantContactEmail(row.merchant, deps.demoMode);
  if (!to) return false;
  const windowMs = deps.responseHours * 3_600_000;
  const due = new Date(now.getTime() + windowMs);
  const link = responseLink(deps, deps.secret, complaintId, row.merchant.id, due);
  const w = loadCatalog('merchant');
  const l = deps.merchantLocale;
  const vars = {
    merchant: row.merchant.name,
    ticket: row.complaint.ticketNumber,
    deal: row.dealTitle ?? '—',
    category: w.t(l, `categories.${row.complaint.category}`),
    due: formatDateTime(l, due),
    link,
  };
  const body = w.t(l, 'email.body', vars);
  await queueMail(tx, { key: `complaint.notice:${complaintId}`, to, subject: w.t(l, 'email.subject', vars), text: body, html: asHtml(body) }, now);
  await tx
    .update(complaints)
    .set({ status: 'merchant_notified', merchantNotifiedAt: now, merchantDueAt: due })
    .where(eq(complaints.id, complaintId));
  await tx
    .insert(timers)
    .values([
      { kind: MERCHANT_REMINDER, subjectId: complaintId, dueAt: new Date(now.getTime() + windowMs * deps.reminderRatio), createdAt: now },
      { kind: MERCHANT_DEADLINE, subjectId: complaintId, dueAt: due, createdAt: now },
    ])
    .onConflictDoNothing();
  await tx.insert(auditLog).values({
    actorType: 'system',
    action: 'complaint.merchant_notified',
    subjectType: 'complaint',
    subjectId: complaintId,
    data: { merchantId: row.merchant.id, dueAt: due.toISOString() },
    createdAt: now,
  });
  return true;
}

/** Queues the reminder mail for an unanswered complaint (exactly once). */
export async function remindMerchant(tx: Tx, deps: MerchantNoticeDeps, complaintId: string, now: Date): Promise<boolean> {
  const row = await complaintForMail(tx, complaintId);
  if (!row || !deps.secret) return false;
  const { complaint } = row;
  if (complaint.merchantRespondedAt || !complaint.merchantDueAt || complaint.merchantDueAt <= now) return false;
  const to = merchantContactEmail(row.merchant, deps.demoMode);
  if (!to) return false;
  const link = responseLink(deps, deps.secret, complaintId, row.merchant.id, complaint.merchantDueAt);
  const w = loadCatalog('merchant');
  const l = deps.merchantLocale;
  const vars = { merchant: row.merchant.name, ticket: complaint.ticketNumber, due: formatDateTime(l, complaint.merchantDueAt), link };
  const body = w.t(l, 'email.reminder_body', vars);
  return queueMail(tx, { key: `complaint.reminder:${complaintId}`, to, subject: w.t(l, 'email.reminder_subject', vars), text: body, html: asHtml(body) }, now);
}
