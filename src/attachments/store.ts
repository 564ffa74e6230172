import { and, eq, inArray } from 'drizzle-orm';
import type { BlobStore } from '../core/blob-store.js';
import type { Db, Tx } from '../db/client.js';
import { attachmentBlobs } from '../db/schema.js';
import { createPgBlobStore } from './pg-blob-store.js';

/** A stored file with its owner (the channel identity that sent it). */
export interface StoredFile {
  id: string;
  channelIdentityId: string;
  contentType: string;
  filename: string | null;
  size: number;
  bytes: Uint8Array;
}

export interface NewFile {
  channelIdentityId: string;
  /** Makes a re-sent file (same web chat client id, same channel message and part) store once. */
  uploadKey: string;
  contentType: string;
  filename: string | null;
  bytes: Uint8Array;
  now: Date;
}

/** Stores and reads consumers' files: metadata in `attachment_blobs`, bytes in the configured blob store. */
export interface AttachmentStore {
  readonly kind: BlobStore['kind'];
  save(file: NewFile): Promise<{ id: string; duplicate: boolean }>;
  find(id: string): Promise<StoredFile | null>;
  /**
   * Deletes every file these identities sent: the bytes wherever they are, then the rows (in `tx`,
   * so an erasure that fails leaves the rows for the next attempt). Returns how many.
   */
  deleteOf(tx: Tx, channelIdentityIds: readonly string[]): Promise<number>;
}

/**
 * `blobs` is where new files go (PostgreSQL by default, S3 when configured); files are read and
 * deleted where their row says they were written, so switching stores never loses old files.
 */
export function createAttachmentStore(db: Db, blobs?: BlobStore): AttachmentStore {
  const pg = createPgBlobStore(db);
  const writeTo = blobs ?? pg;
  const storeOf = (kind: BlobStore['kind']): BlobStore | null => (kind === 'postgres' ? pg : writeTo.kind === kind ? writeTo : null);
  return {
    kind: writeTo.kind,
    async save({ channelIdentityId, uploadKey, contentType, filename, bytes, now }) {
      const inline = writeTo.kind === 'postgres';
      const [inserted] = await db
        .insert(attachmentBlobs)
        .values({
          channelIdentityId,
          uploadKey,
          contentType,
          filename,
          size: bytes.length,
          // PostgreSQL keeps the bytes in the row itself: one statement.
          bytes: inline ? Buffer.from(bytes) : null,
          storage: writeTo.kind,
          createdAt: now,
        })
        .onConflictDoNothing()
        .returning({ id: attachmentBlobs.id });
      if (inserted) {
        if (!inline) {
          try {
            await writeTo.put(inserted.id, bytes, contentType);
          } catch (err) {
            // No row without its bytes: the sender's retry stores it again.
            await db.delete(attachmentBlobs).where(eq(attachmentBlobs.id, inserted.id));
            throw err;
          }
        }
        return { id: inserted.id, duplicate: false };
      }
      const [existing] = await db
        .select({ id: attachmentBlobs.id })
        .from(attachmentBlobs)
        .where(and(eq(attachmentBlobs.channelIdentityId, channelIdentityId), eq(attachmentBlobs.uploadKey, uploadKey)))
        .limit(1);
      if (!existing) throw new Error('attachment upsert returned no row');
      return { id: existing.id, duplicate: true };
    },

    async find(id) {
      const [row] = await db
        .select({
          id: attachmentBlobs.id,
          channelIdentityId: attachmentBlobs.channelIdentityId,
          contentType: attachmentBlobs.contentType,
          filename: attachmentBlobs.filename,
          size: attachmentBlobs.size,
          storage: attachmentBlobs.storage,
          bytes: attachmentBlobs.bytes,
        })
        .from(attachmentBlobs)
        .where(eq(attachmentBlobs.id, id))
        .limit(1);
      if (!row) return null;
      const { storage, bytes: inline, ...meta } = row;
      const bytes = storage === 'postgres' ? (inline ? new Uint8Array(inline) : null) : await storeOf(storage)?.get(id);
      return bytes ? { ...meta, bytes } : null;
    },

    async deleteOf(tx, channelIdentityIds) {
      if (channelIdentityIds.length === 0) return 0;
      const rows = await tx
        .select({ id: attachmentBlobs.id, storage: attachmentBlobs.storage })
        .from(attachmentBlobs)
        .where(inArray(attachmentBlobs.channelIdentityId, [...channelIdentityIds]));
      const remote = rows.filter((r) => r.storage !== 'postgres');
      for (const kind of new Set(remote.map((r) => r.storage))) {
        const store = storeOf(kind);
        if (!store) throw new Error(`files are kept in ${kind}, which is not configured: cannot delete them`);
        await store.delete(remote.filter((r) => r.storage === kind).map((r) => r.id));
      }
      if (rows.length > 0) await tx.delete(attachmentBlobs).where(inArray(attachmentBlobs.id, rows.map((r) => r.id)));
      return rows.length;
    },
  };
}
