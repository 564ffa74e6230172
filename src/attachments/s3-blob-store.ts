import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { BlobStore } from '../core/blob-store.js';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Object key prefix, e.g. `kefu/attachments/`. */
  prefix: string;
  region: string;
  /** An S3-compatible endpoint (MinIO, Ceph, R2, OSS, COS); unset = AWS. */
  endpoint?: string | undefined;
  /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible servers need. */
  forcePathStyle: boolean;
  /** Static credentials; unset = the SDK's default chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/**
 * Files in an S3-compatible bucket, one object per file named `<prefix><id>`, through the
 * maintained AWS SDK (its own request signing). Checksums are sent only where the API requires
 * them, which S3-compatible servers accept.
 */
export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore & { client: S3Client } {
  const client = new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const key = (id: string) => `${options.prefix}${id}`;
  return {
    kind: 's3',
    client,
    async put(id, bytes, contentType) {
      await client.send(new PutObjectCommand({ Bucket: options.bucket, Key: key(id), Body: bytes, ContentType: contentType }));
    },
    async get(id) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: options.bucket, Key: key(id) }));
        return out.Body ? await out.Body.transformToByteArray() : null;
      } catch (err) {
        if (err instanceof NoSuchKey || (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404)) return null;
        throw err;
      }
    },
    async delete(ids) {
      // One request per object: not every S3-compatible server has the multi-object DeleteObjects.
      for (const id of ids) await client.send(new DeleteObjectCommand({ Bucket: options.bucket, Key: key(id) }));
    },
  };
}
