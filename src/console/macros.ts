import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { focusOrderNumber } from '../actions/handoff-context.js';
import type { Locale } from '../core/message.js';
import type { Db } from '../db/client.js';
import { agents, auditLog, macros } from '../db/schema.js';
import { interpolate } from '../i18n/catalog.js';
import { formatMoney } from '../i18n/format.js';
import type { Actor } from './cases.js';
import type { CaseDetail } from './queries.js';

const Body = z.string().trim().min(1).max(4000);
/** A canned reply as managers write it: a title and the text in every locale. */
export const MacroInput = z
  .object({
    title: z.string().trim().min(1).max(100),
    body: z.object({ 'zh-Hans': Body, 'zh-Hant': Body, en: Body }).strict(),
  })
  .strict();
export type MacroInput = z.infer<typeof MacroInput>;

/** The variables a canned reply may use, taken from the case. */
export const MACRO_VARIABLES = ['customer.name', 'order.number', 'refund.amount', 'ticket.number', 'agent.name'] as const;

async function teamOf(db: Db, agentId: string): Promise<string> {
  const [row] = await db.select({ team: agents.team }).from(agents).where(eq(agents.id, agentId)).limit(1);
  return row?.team ?? 'support';
}

/** The canned replies of the person's team, by title. */
export async function listMacros(db: Db, actor: Actor) {
  const team = await teamOf(db, actor.id);
  return db.select().from(macros).where(eq(macros.team, team)).orderBy(asc(macros.title));
}

/** Creates a canned reply for the manager's team (audited). */
export async function createMacro(db: Db, actor: Actor, input: MacroInput, now: Date) {
  const team = await teamOf(db, actor.id);
  const [row] = await db
    .insert(macros)
    .values({ team, title: input.title, body: input.body, createdByAgentId: actor.id, createdAt: now, updatedAt: now })
    .returning();
  if (!row) throw new Error('macro insert returned no row');
  await db.insert(auditLog).values({ actorType: 'agent', actorId: actor.id, action: 'macro.create', subjectType: 'macro', subjectId: row.id, data: { team }, createdAt: now });
  return row;
}

/** Changes a canned reply of the manager's team; null when there is none with that id. */
export async function updateMacro(db: Db, actor: Actor, id: string, input: MacroInput, now: Date) {
  const team = await teamOf(db, actor.id);
  const [row] = await db
    .update(macros)
    .set({ title: input.title, body: input.body, updatedAt: now })
    .where(and(eq(macros.id, id), eq(macros.team, team)))
    .returning();
  if (row) await db.insert(auditLog).values({ actorType: 'agent', actorId: actor.id, action: 'macro.update', subjectType: 'macro', subjectId: id, data: { team }, createdAt: now });
  return row ?? null;
}

/** Deletes a canned reply of the manager's team; false when there is none with that id. */
export async function deleteMacro(db: Db, actor: Actor, id: string, now: Date): Promise<boolean> {
  const team = await teamOf(db, actor.id);
  const gone = await db.delete(macros).where(and(eq(macros.id, id), eq(macros.team, team))).returning({ id: macros.id });
  if (gone.length > 0) await db.insert(auditLog).values({ actorType: 'agent', actorId: actor.id, action: 'macro.delete', subjectType: 'macro', subjectId: id, data: { team }, createdAt: now });
  return gone.length > 0;
}

/** The values of MACRO_VARIABLES for one case; the case's order and refund first. */
export function macroValues(detail: CaseDetail, actor: Actor): Record<string, string> {
  const p = detail.packet;
  const focus = p.focus;
  const order = focusOrderNumber(focus) ?? p.orders[0]?.orderNumber ?? '';
  const amount = focus?.kind === 'refund_review' && focus.amountCents !== null ? focus.amountCents : (p.refunds[0]?.amountCents ?? null);
  return {
    'customer.name': p.customer.name ?? '',
    'order.number': order,
    'refund.amount': amount === null ? '' : formatMoney(amount),
    'ticket.number': detail.handoff?.ticketNumber ?? '',
    'agent.name': actor.name,
  };
}

/** Each canned reply of the team, filled in for a case in the consumer's language. */
export async function macrosForCase(db: Db, actor: Actor, detail: CaseDetail): Promise<{ id: string; title: string; text: string }[]> {
  const rows = await listMacros(db, actor);
  const values = macroValues(detail, actor);
  const locale: Locale = detail.case.locale;
  return rows.map((m) => ({ id: m.id, title: m.title, text: interpolate(m.body[locale], values) }));
}
