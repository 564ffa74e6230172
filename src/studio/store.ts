import { and, desc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { agents, studioHeads, studioVersions } from '../db/schema.js';
import type { StudioVersion } from '../db/schema.js';

/** A version as the studio shows it: with the names of its author and publisher. */
export interface VersionRow extends StudioVersion {
  authorName: string | null;
  publishedByName: string | null;
}

export interface Head {
  documentId: string;
  draftId: string | null;
  publishedId: string | null;
  updatedAt: Date;
}

const author = sql<string | null>`(select ${agents.name} from ${agents} where ${agents.id} = ${studioVersions.authorId})`;
const publisher = sql<string | null>`(select ${agents.name} from ${agents} where ${agents.id} = ${studioVersions.publishedBy})`;

/** Every document's head (draft and published pointers). */
export async function listHeads(db: DbOrTx): Promise<Head[]> {
  return db.select().from(studioHeads);
}

export async function headOf(db: DbOrTx, documentId: string): Promise<Head | null> {
  const [row] = await db.select().from(studioHeads).where(eq(studioHeads.documentId, documentId)).limit(1);
  return row ?? null;
}

/** Versions by id, with names. */
export async function versionsById(db: DbOrTx, ids: readonly string[]): Promise<Map<string, VersionRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ v: studioVersions, authorName: author, publishedByName: publisher })
    .from(studioVersions)
    .where(inArray(studioVersions.id, [...ids]));
  return new Map(rows.map((r) => [r.v.id, { ...r.v, authorName: r.authorName, publishedByName: r.publishedByName }]));
}

/** The whole history of a document, newest first. Unlimited: nothing is ever deleted. */
export async function history(db: DbOrTx, documentId: string): Promise<VersionRow[]> {
  const rows = await db
    .select({ v: studioVersions, authorName: author, publishedByName: publisher })
    .from(studioVersions)
    .where(eq(studioVersions.documentId, documentId))
    .orderBy(desc(studioVersions.number));
  return rows.map((r) => ({ ...r.v, authorName: r.authorName, publishedByName: r.publishedByName }));
}

/** Saves a new draft version of a document (edited from its current draft, published version or baseline). */
export async function saveDraft(
  db: DbOrTx,
  input: { documentId: string; content: string; authorId: string | null; comment: string; now: Date },
): Promise<StudioVersion> {
  const head = await headOf(db, input.documentId);
  const [max] = await db
    .select({ n: sql<number>`coalesce(max(${studioVersions.number}), 0)::int` })
    .from(studioVersions)
    .where(eq(studioVersions.documentId, input.documentId));
  const [version] = await db
    .insert(studioVersions)
    .values({
      documentId: input.documentId,
      number: Number(max?.n ?? 0) + 1,
      content: input.content,
      authorId: input.authorId,
      comment: input.comment,
      parentId: head?.draftId ?? head?.publishedId ?? null,
      createdAt: input.now,
    })
    .returning();
  if (!version) throw new Error('insert returned nothing');
  await db
    .insert(studioHeads)
    .values({ documentId: input.documentId, draftId: version.id, publishedId: null, updatedAt: input.now })
    .onConflictDoUpdate({ target: studioHeads.documentId, set: { draftId: version.id, updatedAt: input.now } });
  return version;
}

/** Drops the draft pointer (the versions stay in the history). */
export async function discardDraft(db: DbOrTx, documentId: string, now: Date): Promise<void> {
  await db.update(studioHeads).set({ draftId: null, updatedAt: now }).where(eq(studioHeads.documentId, documentId));
}

/** Makes a version (or the baseline, null) the one in force; publishing the draft clears the draft. */
export async function setPublished(db: DbOrTx, documentId: string, versionId: string | null, actorId: string, now: Date): Promise<void> {
  const head = await headOf(db, documentId);
  const draftId = head?.draftId === versionId ? null : (head?.draftId ?? null);
  await db
    .insert(studioHeads)
    .values({ documentId, draftId, publishedId: versionId, updatedAt: now })
    .onConflictDoUpdate({ target: studioHeads.documentId, set: { draftId, publishedId: versionId, updatedAt: now } });
  if (versionId) {
    await db
      .update(studioVersions)
      .set({ publishedAt: now, publishedBy: actorId })
      .where(and(eq(studioVersions.id, versionId), sql`${studioVersions.publishedAt} is null`));
  }
}

export async function nameVersion(db: DbOrTx, versionId: string, name: string | null): Promise<boolean> {
  const rows = await db.update(studioVersions).set({ name }).where(eq(studioVersions.id, versionId)).returning({ id: studioVersions.id });
  return rows.length > 0;
}

/** Contents in force: the published version of each document over the baseline files. */
export async function publishedTexts(db: DbOrTx, baseline: ReadonlyMap<string, string>): Promise<Map<string, string>> {
  const rows = await db
    .select({ documentId: studioHeads.documentId, content: studioVersions.content })
    .from(studioHeads)
    .innerJoin(studioVersions, eq(studioVersions.id, studioHeads.publishedId))
    .where(isNotNull(studioHeads.publishedId));
  const out = new Map(baseline);
  for (const r of rows) out.set(r.documentId, r.content);
  return out;
}

/** Drafts by document: id → draft version. */
export async function drafts(db: DbOrTx): Promise<Map<string, StudioVersion>> {
  const rows = await db
    .select({ v: studioVersions })
    .from(studioHeads)
    .innerJoin(studioVersions, eq(studioVersions.id, studioHeads.draftId))
    .where(isNotNull(studioHeads.draftId));
  return new Map(rows.map((r) => [r.v.documentId, r.v]));
}
