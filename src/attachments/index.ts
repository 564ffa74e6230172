import type { Config } from '../config.js';
import type { BlobStore } from '../core/blob-store.js';
import type { Db } from '../db/client.js';
import { createS3BlobStore } from './s3-blob-store.js';
import { type AttachmentStore, createAttachmentStore } from './store.js';

export { createAcceptFile, heicToJpeg } from './accept.js';
export { type AttachmentStore, createAttachmentStore, type NewFile, type StoredFile } from './store.js';

/** The blob store the configuration asks for: S3 when ATTACHMENT_S3_BUCKET is set, else none (PostgreSQL). */
export function configuredBlobStore(config: Config): BlobStore | undefined {
  if (!config.ATTACHMENT_S3_BUCKET) return undefined;
  return createS3BlobStore({
    bucket: config.ATTACHMENT_S3_BUCKET,
    prefix: config.ATTACHMENT_S3_PREFIX,
    region: config.ATTACHMENT_S3_REGION,
    endpoint: config.ATTACHMENT_S3_ENDPOINT,
    forcePathStyle: config.ATTACHMENT_S3_FORCE_PATH_STYLE ?? config.ATTACHMENT_S3_ENDPOINT !== undefined,
    credentials:
      config.ATTACHMENT_S3_ACCESS_KEY_ID && config.ATTACHMENT_S3_SECRET_ACCESS_KEY
        ? { accessKeyId: config.ATTACHMENT_S3_ACCESS_KEY_ID, secretAccessKey: config.ATTACHMENT_S3_SECRET_ACCESS_KEY }
        : undefined,
  });
}

/** The attachment store a service (or a CLI command) uses with this configuration. */
export function configuredAttachmentStore(config: Config, db: Db): AttachmentStore {
  return createAttachmentStore(db, configuredBlobStore(config));
}
