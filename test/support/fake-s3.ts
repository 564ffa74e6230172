import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake S3 answered, as the test wants to check it. */
export interface S3Call {
  method: string;
  bucket: string;
  key: string;
  /** The SigV4 credential scope's access key (the SDK signed the request), or null when unsigned. */
  signedBy: string | null;
}

/**
 * A small in-process S3-compatible server on loopback for the real AWS SDK to talk to (path-style:
 * `/<bucket>/<key>`): PutObject, GetObject, HeadObject, DeleteObject. No network beyond 127.0.0.1.
 */
export async function startFakeS3(bucket: string) {
  const objects = new Map<string, { bytes: Buffer; contentType: string }>();
  const calls: S3Call[] = [];
  const body = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake-s3');
    const [, b = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const auth = req.headers.authorization ?? '';
    const signedBy = /^AWS4-HMAC-SHA256 Credential=([^/]+)\//.exec(auth)?.[1] ?? null;
    calls.push({ method: req.method ?? '', bucket: b, key, signedBy });
    const xmlError = (status: number, code: string) => {
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message><Key>${key}</Key></Error>`);
    };
    if (b !== bucket) return xmlError(404, 'NoSuchBucket');
    if (!signedBy) return xmlError(403, 'AccessDenied');
    if (req.method === 'PUT') {
      objects.set(key, { bytes: await body(req), contentType: req.headers['content-type'] ?? 'application/octet-stream' });
      res.writeHead(200, { etag: '"fake"' });
      return res.end();
    }
    const found = objects.get(key);
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (!found) return xmlError(404, 'NoSuchKey');
      res.writeHead(200, { 'content-type': found.contentType, 'content-length': String(found.bytes.length), etag: '"fake"' });
      return res.end(req.method === 'GET' ? found.bytes : undefined);
    }
    if (req.method === 'DELETE') {
      objects.delete(key);
      res.writeHead(204);
      return res.end();
    }
    return xmlError(405, 'MethodNotAllowed');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    objects,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
