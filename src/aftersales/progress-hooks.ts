import { desc, eq } from 'drizzle-orm';
import { scheduleRefundPaidCheck } from '../actions/refund-progress.js';
import type { Tx } from '../db/client.js';
import { handoffs } from '../db/schema.js';
import { formatDay, formatMoney } from '../i18n/format.js';
import { loadProgressMessages, type ProgressMessages, say, tellConsumer } from './progress.js';

// The shipped wording file, read once per process like the locale catalogs (src/i18n/catalog.ts).
let cached: ProgressMessages | null = null;
const wording = () => (cached ??= loadProgressMessages());

/** "Agent X is handling your case": once per conversation and agent (a transfer to someone else tells again). */
export async function tellAgentAssigned(tx: Tx, conversationId: string, agent: { id: string; name: string }, now: Date): Promise<boolean> {
  const [h] = await tx
    .select({ ticket: handoffs.ticketNumber })
    .from(handoffs)
    .where(eq(handoffs.conversationId, conversationId))
    .orderBy(desc(handoffs.createdAt))
    .limit(1);
  return tellConsumer(
    tx,
    wording(),
    { key: `agent_assigned:${conversationId}:${agent.id}`, kind: 'agent_assigned', conversationId, vars: () => ({ agent: agent.name, ticket: h?.ticket ?? '—' }) },
    now,
  );
}

/** An agent approved a refund under review: tell the consumer and follow its payment until paid. */
export async function tellRefundApproved(
  tx: Tx,
  refund: { id: string; conversationId: string | null; amountCents: number; couponCode: string; expectedBy: Date },
  now: Date,
): Promise<boolean> {
  await scheduleRefundPaidCheck(tx, refund.id, now);
  if (!refund.conversationId) return false;
  return tellConsumer(
    tx,
    wording(),
    {
      key: `refund_approved:${refund.id}`,
      kind: 'refund_approved',
      conversationId: refund.conversationId,
      vars: (l) => ({ code: refund.couponCode, amount: formatMoney(refund.amountCents), byDate: formatDay(l, refund.expectedBy) }),
    },
    now,
  );
}

/** An agent denied a refund under review: tell the consumer with the reason. */
export async function tellRefundDenied(
  tx: Tx,
  refund: { id: string; conversationId: string | null; couponCode: string; reason: string | null },
  now: Date,
): Promise<boolean> {
  if (!refund.conversationId) return false;
  const w = wording();
  return tellConsumer(
    tx,
    w,
    {
      key: `refund_denied:${refund.id}`,
      kind: 'refund_denied',
      conversationId: refund.conversationId,
      vars: (l) => ({ code: refund.couponCode, reason: refund.reason ?? say(w.no_reason, l, {}) }),
    },
    now,
  );
}
