import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { attachmentBlobs } from '../db/schema.js';

/** A file a consumer sent (photo, PDF), for staff: the bytes and how to serve them. */
export async function readAttachment(db: Db, id: string) {
  const [row] = await db
    .select({ contentType: attachmentBlobs.contentType, size: attachmentBlobs.size, bytes: attachmentBlobs.bytes })
    .from(attachmentBlobs)
    .where(eq(attachmentBlobs.id, id))
    .limit(1);
  return row ?? null;
}

/** The stored attachment id a transcript entry points at, if it is one of ours. */
export function attachmentLinks(attachments: Record<string, unknown>[] | null | undefined) {
  return (attachments ?? []).flatMap((a) =>
    typeof a.ref === 'string' && /^[0-9a-f-]{36}$/.test(a.ref)
      ? [{ id: a.ref, image: a.kind === 'image', name: typeof a.filename === 'string' ? a.filename : null }]
      : [],
  );
}
