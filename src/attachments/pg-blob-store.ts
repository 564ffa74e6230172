import { eq, inArray } from 'drizzle-orm';
import type { BlobStore } from '../core/blob-store.js';
import type { Db } from '../db/client.js';
import { attachmentBlobs } from '../db/schema.js';

/** The default: a file's bytes in its own row (`attachment_blobs.bytes`, bytea). */
export function createPgBlobStore(db: Db): BlobStore {
  return {
    kind: 'postgres',
    async put(id, bytes) {
      await db.update(attachmentBlobs).set({ bytes: Buffer.from(bytes) }).where(eq(attachmentBlobs.id, id));
    },
    async get(id) {
      const [row] = await db.select({ bytes: attachmentBlobs.bytes }).from(attachmentBlobs).where(eq(attachmentBlobs.id, id)).limit(1);
      return row?.bytes ? new Uint8Array(row.bytes) : null;
    },
    async delete(ids) {
      if (ids.length > 0) await db.update(attachmentBlobs).set({ bytes: null }).where(inArray(attachmentBlobs.id, [...ids]));
    },
  };
}
