/**
 * Where the bytes of stored files (photos, PDFs consumers sent) live. Rows in `attachment_blobs`
 * keep the metadata; a blob store keeps the bytes under the row's id. Two exist: PostgreSQL (the
 * default, the row's own `bytes` column) and an S3-compatible bucket (ATTACHMENT_S3_BUCKET).
 */
export interface BlobStore {
  /** What the row records as its `storage`, so a file is read from where it was written. */
  readonly kind: 'postgres' | 's3';
  /** Stores the bytes of the file with this id (the row exists already). */
  put(id: string, bytes: Uint8Array, contentType: string): Promise<void>;
  /** The bytes, or null when there are none (deleted, never written). */
  get(id: string): Promise<Uint8Array | null>;
  /** Removes the bytes of these files; unknown ids are ignored. */
  delete(ids: readonly string[]): Promise<void>;
}
