import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configuredAttachmentStore } from '../../src/attachments/index.js';
import { createPgBlobStore } from '../../src/attachments/pg-blob-store.js';
import { createS3BlobStore } from '../../src/attachments/s3-blob-store.js';
import { loadConfig } from '../../src/config.js';
import type { BlobStore } from '../../src/core/blob-store.js';
import { attachmentBlobs, channelIdentities, customers } from '../../src/db/schema.js';
import { eraseCustomer } from '../../src/privacy/customer-data.js';
import { backends } from '../support/db.js';
import { loginAs } from '../support/console.js';
import { startFakeS3 } from '../support/fake-s3.js';
import { call, testService } from '../support/service.js';

const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, ...Buffer.from('JFIF'), 0, 1, 2, 3, 4, 5]);
const BUCKET = 'kefu-files';

// Issue 14: files go to an S3-compatible store when configured (the real AWS SDK against a fake
// S3 server on loopback), stay in PostgreSQL otherwise; both behind the same put/get/delete port.
describe.each(backends())('attachment storage on %s', (backend) => {
  let s3: Awaited<ReturnType<typeof startFakeS3>>;
  let service: Awaited<ReturnType<typeof testService>>;
  let env: Record<string, string>;

  beforeAll(async () => {
    s3 = await startFakeS3(BUCKET);
    env = {
      ATTACHMENT_S3_BUCKET: BUCKET,
      ATTACHMENT_S3_ENDPOINT: s3.endpoint,
      ATTACHMENT_S3_REGION: 'cn-north-1',
      ATTACHMENT_S3_PREFIX: 'kefu/',
      ATTACHMENT_S3_ACCESS_KEY_ID: 'AKIDKEFUTEST',
      ATTACHMENT_S3_SECRET_ACCESS_KEY: 'not-a-real-secret',
    };
    service = await testService(backend, { env });
  });
  afterAll(async () => {
    await service?.close();
    await s3?.close();
  });

  async function contract(store: BlobStore, id: string) {
    await store.put(id, JPEG, 'image/jpeg');
    expect(await store.get(id)).toEqual(JPEG);
    await store.delete([id]);
    expect(await store.get(id)).toBeNull();
    await store.delete([id]); // deleting twice is no error
  }

  it('both blob stores keep, return and delete bytes by id', async () => {
    const db = service.database.db;
    expect((await call(service, 'POST', '/api/webchat/sessions', { body: {} })).status).toBe(201);
    const [identity] = await db.select({ id: channelIdentities.id }).from(channelIdentities).limit(1);
    const [row] = await db
      .insert(attachmentBlobs)
      .values({ channelIdentityId: identity!.id, uploadKey: 'contract', contentType: 'image/jpeg', size: JPEG.length, storage: 'postgres' })
      .returning({ id: attachmentBlobs.id });
    await contract(createPgBlobStore(db), row!.id);
    const bucket = createS3BlobStore({ bucket: BUCKET, prefix: 'contract/', region: 'cn-north-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'AKIDKEFUTEST', secretAccessKey: 'x' } });
    await contract(bucket, 'f1');
    expect(s3.calls.filter((c) => c.key === 'contract/f1').map((c) => c.method)).toEqual(['PUT', 'GET', 'DELETE', 'GET', 'DELETE']);
  });

  it('with ATTACHMENT_S3_BUCKET a photo from the web chat goes to the bucket, is served from it, and erasure deletes it', async () => {
    const session = await call(service, 'POST', '/api/webchat/sessions', { body: {} });
    const token = session.body.token as string;
    const res = await service.app.request('/api/webchat/attachments', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-client-message-id': 's3-photo-1', 'x-file-name': 'receipt.jpg' },
      body: Buffer.from(JPEG),
    });
    expect(res.status).toBe(202);
    const { attachmentId } = (await res.json()) as { attachmentId: string };

    // The bytes are in the bucket, under the prefix, written with the configured key (signed by the SDK); the row has none.
    expect(s3.objects.get(`kefu/${attachmentId}`)?.bytes).toEqual(Buffer.from(JPEG));
    expect(s3.objects.get(`kefu/${attachmentId}`)?.contentType).toBe('image/jpeg');
    expect(s3.calls.find((c) => c.method === 'PUT' && c.key === `kefu/${attachmentId}`)?.signedBy).toBe('AKIDKEFUTEST');
    const db = service.database.db;
    const [row] = await db.select().from(attachmentBlobs).where(eq(attachmentBlobs.id, attachmentId));
    expect(row).toMatchObject({ storage: 's3', bytes: null, size: JPEG.length });

    const own = await service.app.request(`/api/webchat/attachments/${attachmentId}`, { headers: { authorization: `Bearer ${token}` } });
    expect(own.status).toBe(200);
    expect(new Uint8Array(await own.arrayBuffer())).toEqual(JPEG);
    const staff = await loginAs(service, 'agent1@kefu.demo');
    const forAgent = await service.app.request(`/api/console/attachments/${attachmentId}`, { headers: { authorization: `Bearer ${staff.token}` } });
    expect(forAgent.status).toBe(200);
    expect(new Uint8Array(await forAgent.arrayBuffer())).toEqual(JPEG);

    // The person asks to be erased: the object leaves the bucket and the row goes.
    const [owner] = await db
      .select({ customerId: customers.id })
      .from(channelIdentities)
      .innerJoin(customers, eq(customers.id, channelIdentities.customerId))
      .where(eq(channelIdentities.id, row!.channelIdentityId));
    const counts = await eraseCustomer(db, owner!.customerId, 'privacy-officer', new Date(), configuredAttachmentStore(loadConfig({ DATABASE_URL: 'pglite://memory', ...env }), db));
    expect(counts.files).toBe(1);
    expect(s3.objects.has(`kefu/${attachmentId}`)).toBe(false);
    expect(await db.select().from(attachmentBlobs).where(eq(attachmentBlobs.id, attachmentId))).toEqual([]);
    const gone = await service.app.request(`/api/console/attachments/${attachmentId}`, { headers: { authorization: `Bearer ${staff.token}` } });
    expect(gone.status).toBe(404);
  });

  it('refuses half an S3 configuration at start with a list of what is wrong', () => {
    expect(() => loadConfig({ ATTACHMENT_S3_BUCKET: 'b', ATTACHMENT_S3_ACCESS_KEY_ID: 'only-one' })).toThrow(/set both or neither/);
    expect(() => loadConfig({ ATTACHMENT_S3_ENDPOINT: 'http://minio:9000' })).toThrow(/ATTACHMENT_S3_BUCKET: required/);
    expect(() => loadConfig({ ATTACHMENT_S3_BUCKET: 'b', ATTACHMENT_S3_ENDPOINT: 'not a url' })).toThrow(/ATTACHMENT_S3_ENDPOINT/);
  });
});
