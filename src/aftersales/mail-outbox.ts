import { and, asc, eq, isNull, lte, or, sql } from 'drizzle-orm';
import { createTransport, type Transporter } from 'nodemailer';
import { z } from 'zod';
import type { Clock } from '../core/ports.js';
import type { Db, DbOrTx } from '../db/client.js';
import { mailOutbox } from '../db/schema.js';
import type { Logger } from '../logger.js';

/** Queues one mail, exactly once per `key`, in the caller's transaction. Returns whether it was queued now. */
export async function queueMail(
  tx: DbOrTx,
  mail: { key: string; to: string; subject: string; text: string; html: string },
  now: Date,
): Promise<boolean> {
  const [row] = await tx
    .insert(mailOutbox)
    .values({ key: mail.key, toAddress: mail.to, subject: mail.subject, text: mail.text, html: mail.html, nextAttemptAt: now, createdAt: now })
    .onConflictDoNothing({ target: mailOutbox.key })
    .returning({ id: mailOutbox.id });
  return row !== undefined;
}

const SmtpError = z.object({ responseCode: z.number().optional(), message: z.string() });

/**
 * Delivers mail_outbox rows over SMTP (SMTP_URL): rows are claimed with FOR UPDATE SKIP LOCKED and
 * a lease, so several instances never send one twice; 4xx and connection failures are retried
 * with backoff, 5xx are final.
 */
export class MailOutboxWorker {
  private readonly transport: Transporter;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: { db: Db; clock: Clock; logger: Logger; smtpUrl: string; from: string; pollMs: number; maxAttempts: number },
  ) {
    this.transport = createTransport(deps.smtpUrl);
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.timer = setTimeout(() => {
        this.running = this.runOnce()
          .catch((err: unknown) => this.deps.logger.error({ err }, 'mail_outbox.run_failed'))
          .finally(() => {
            if (this.timer) tick();
          });
      }, this.deps.pollMs);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    this.transport.close();
  }

  /** Sends every mail due now; returns how many were attempted. */
  async runOnce(): Promise<number> {
    let handled = 0;
    for (;;) {
      const now = this.deps.clock.now();
      const [row] = await this.deps.db.transaction(async (tx) => {
        const [due] = await tx
          .select()
          .from(mailOutbox)
          .where(
            and(
              eq(mailOutbox.status, 'pending'),
              lte(mailOutbox.nextAttemptAt, now),
              or(isNull(mailOutbox.lockedUntil), lte(mailOutbox.lockedUntil, now)),
            ),
          )
          .orderBy(asc(mailOutbox.id))
          .limit(1)
          .for('update', { skipLocked: true });
        if (!due) return [];
        await tx
          .update(mailOutbox)
          .set({ lockedUntil: new Date(now.getTime() + 60_000), attempts: sql`${mailOutbox.attempts} + 1` })
          .where(eq(mailOutbox.id, due.id));
        return [due];
      });
      if (!row) return handled;
      handled += 1;
      await this.deliver(row);
    }
  }

  private async deliver(row: typeof mailOutbox.$inferSelect): Promise<void> {
    const { db, clock, logger } = this.deps;
    try {
      await this.transport.sendMail({ from: this.deps.from, to: row.toAddress, subject: row.subject, text: row.text, html: row.html });
      await db.update(mailOutbox).set({ status: 'sent', sentAt: clock.now(), lockedUntil: null, lastError: null }).where(eq(mailOutbox.id, row.id));
      logger.info({ mailId: row.id }, 'mail_outbox.sent');
    } catch (err) {
      const parsed = SmtpError.safeParse(err);
      const code = parsed.success ? parsed.data.responseCode : undefined;
      const error = (parsed.success ? parsed.data.message : String(err)).slice(0, 500);
      const attempts = row.attempts + 1;
      const giveUp = (code !== undefined && code >= 500) || attempts >= this.deps.maxAttempts;
      const retryAt = new Date(clock.now().getTime() + Math.min(2000 * 2 ** attempts, 600_000));
      await db
        .update(mailOutbox)
        .set(giveUp ? { status: 'failed', lockedUntil: null, lastError: error } : { nextAttemptAt: retryAt, lockedUntil: null, lastError: error })
        .where(eq(mailOutbox.id, row.id));
      logger.warn({ mailId: row.id, attempts, giveUp }, giveUp ? 'mail_outbox.failed' : 'mail_outbox.retry');
    }
  }
}
