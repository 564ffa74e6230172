import type { DbOrTx } from '../db/client.js';
import { timers } from '../db/schema.js';

/** The durable timer that reads an approved refund's payment status and tells the consumer when it is paid. */
export const REFUND_PAID_CHECK = 'refund.paid_check';

/**
 * Schedules the payment-status check of an approved refund (once per refund: the timers table is
 * unique on kind + subject). Written in the transaction that approved it.
 */
export async function scheduleRefundPaidCheck(tx: DbOrTx, refundId: string, at: Date): Promise<void> {
  await tx.insert(timers).values({ kind: REFUND_PAID_CHECK, subjectId: refundId, dueAt: at, createdAt: at }).onConflictDoNothing();
}
