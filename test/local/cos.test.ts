import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import COS from 'cos-nodejs-sdk-v5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CosServer, type LocalCredential } from '../../local/cos/server';

const BUCKET = 'chat-dev-gz-1250000000';
const REGION = 'ap-guangzhou';

function randomCredential(withToken = false): LocalCredential {
  return {
    secretId: 'AKID' + randomBytes(16).toString('hex'),
    secretKey: randomBytes(24).toString('base64url'),
    ...(withToken ? { sessionToken: randomBytes(32).toString('base64url') } : {}),
  };
}

function client(server: CosServer, credential: LocalCredential, token?: string): COS {
  return new COS({
    SecretId: credential.secretId,
    SecretKey: credential.secretKey,
    ...(token !== undefined ? { SecurityToken: token } : {}),
    Domain: server.domain,
    Timeout: 10_000,
    // putObject runs through the SDK's upload queue, which allows only 3 uploads at a time by default
    FileParallelLimit: 50,
  });
}

/** Resolves to the SDK's error, failing the test if the call succeeds. */
async function failure(promise: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { statusCode?: number; code?: string; message?: string };
  }
  throw new Error('expected the request to fail');
}

/** Runs `fn` over `items`, `limit` at a time. */
async function inBatches<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

describe('local COS server through cos-nodejs-sdk-v5', () => {
  let directory: string;
  let server: CosServer;
  let cos: COS;
  const credential = randomCredential();
  const temporary = randomCredential(true);

  const newServer = () => new CosServer({ directory, credentials: [credential, temporary], buckets: [BUCKET] });

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'local-cos-'));
    server = newServer();
    await server.start();
    cos = client(server, credential);
  });

  afterAll(async () => {
    await server?.stop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('exposes the endpoint and the Domain template', () => {
    expect(server.endpoint).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.domain).toBe(`http://127.0.0.1:${server.port}/{Bucket}`);
  });

  it('puts, gets, heads and deletes an object', async () => {
    const put = await cos.putObject({ Bucket: BUCKET, Region: REGION, Key: 'rooms/lobby.json', Body: '{"hi":1}' });
    expect(put.statusCode).toBe(200);
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(put.headers?.['x-cos-request-id']).toBeTruthy();

    const got = await cos.getObject({ Bucket: BUCKET, Region: REGION, Key: 'rooms/lobby.json' });
    expect(got.Body.toString()).toBe('{"hi":1}');
    expect(got.ETag).toBe(put.ETag);

    const head = await cos.headObject({ Bucket: BUCKET, Region: REGION, Key: 'rooms/lobby.json' });
    expect(head.headers?.['content-length']).toBe('8');
    expect(head.headers?.['content-type']).toBe('application/octet-stream');

    const deleted = await cos.deleteObject({ Bucket: BUCKET, Region: REGION, Key: 'rooms/lobby.json' });
    expect(deleted.statusCode).toBe(204);

    const missing = await failure(cos.getObject({ Bucket: BUCKET, Region: REGION, Key: 'rooms/lobby.json' }));
    expect(missing.statusCode).toBe(404);
    expect(missing.code).toBe('NoSuchKey');
    const missingHead = await failure(cos.headObject({ Bucket: BUCKET, Region: REGION, Key: 'rooms/lobby.json' }));
    expect(missingHead.statusCode).toBe(404);
  });

  it('succeeds deleting a key that does not exist', async () => {
    const deleted = await cos.deleteObject({ Bucket: BUCKET, Region: REGION, Key: 'never/was.txt' });
    expect(deleted.statusCode).toBe(204);
  });

  it('deletes several objects at once, including keys that look like numbers or have spaces', async () => {
    const keys = ['batch/a', 'batch/b c', '007', ' padded ', 'batch/&<amp>'];
    for (const key of keys) await cos.putObject({ Bucket: BUCKET, Region: REGION, Key: key, Body: key });
    const result = await cos.deleteMultipleObject({
      Bucket: BUCKET,
      Region: REGION,
      Objects: [...keys, 'batch/never'].map((Key) => ({ Key })),
    });
    expect(result.statusCode).toBe(200);
    expect(result.Deleted.map((d) => d.Key).sort()).toEqual([...keys, 'batch/never'].sort());
    expect(result.Error).toEqual([]);
    for (const key of keys) {
      const err = await failure(cos.headObject({ Bucket: BUCKET, Region: REGION, Key: key }));
      expect(err.statusCode).toBe(404);
    }

    const quiet = await cos.deleteMultipleObject({
      Bucket: BUCKET,
      Region: REGION,
      Objects: [{ Key: 'batch/x' }],
      Quiet: true,
    });
    expect(quiet.Deleted).toEqual([]);
  });

  it('round-trips x-cos-meta-* metadata and the content type', async () => {
    await cos.putObject({
      Bucket: BUCKET,
      Region: REGION,
      Key: 'meta.txt',
      Body: 'x',
      ContentType: 'text/plain; charset=utf-8',
      Headers: { 'x-cos-meta-room': 'lobby', 'x-cos-meta-author-id': '42' },
    });
    const head = await cos.headObject({ Bucket: BUCKET, Region: REGION, Key: 'meta.txt' });
    expect(head.headers?.['x-cos-meta-room']).toBe('lobby');
    expect(head.headers?.['x-cos-meta-author-id']).toBe('42');
    expect(head.headers?.['content-type']).toBe('text/plain; charset=utf-8');
    expect(Object.keys(head.headers ?? {}).filter((name) => name.startsWith('x-amz-'))).toEqual([]);
    const got = await cos.getObject({ Bucket: BUCKET, Region: REGION, Key: 'meta.txt' });
    expect(got.headers?.['x-cos-meta-room']).toBe('lobby');
  });

  it('round-trips keys with + / = characters, spaces, quotes and unicode', async () => {
    const keys = ['sp/a+b=c', 'sp/with space', 'sp/quote\'"`!*()', 'sp/中文/ключ/😀.txt', 'sp/percent%2F%zz', 'sp/folder/'];
    for (const key of keys) {
      await cos.putObject({ Bucket: BUCKET, Region: REGION, Key: key, Body: `body of ${key}` });
      const got = await cos.getObject({ Bucket: BUCKET, Region: REGION, Key: key });
      expect(got.Body.toString()).toBe(`body of ${key}`);
    }
    const listed = await cos.getBucket({ Bucket: BUCKET, Region: REGION, Prefix: 'sp/' });
    const byteOrder = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(listed.Contents.map((c) => c.Key)).toEqual(byteOrder);
  });

  it('refuses a key with an empty path segment', async () => {
    const err = await failure(cos.putObject({ Bucket: BUCKET, Region: REGION, Key: 'a//b', Body: 'x' }));
    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('InvalidObjectName');
  });

  it('pages a 2500-key listing in 1000-key pages with NextMarker', async () => {
    const keys = Array.from({ length: 2500 }, (_, i) => `paging/${String(i).padStart(4, '0')}`);
    // a shorter key sharing a folder name: s3rver alone would list it out of order
    keys.push('paging');
    // SkipTask bypasses the SDK's upload queue, whose bookkeeping costs more than the uploads here
    await inBatches(keys, 50, (Key) => cos.putObject({ Bucket: BUCKET, Region: REGION, Key, Body: '', SkipTask: true } as COS.PutObjectParams));

    const pages: Awaited<ReturnType<COS['getBucket']>>[] = [];
    let marker: string | undefined;
    do {
      const page = await cos.getBucket({ Bucket: BUCKET, Region: REGION, Prefix: 'paging', Marker: marker });
      pages.push(page);
      marker = page.IsTruncated === 'true' ? page.NextMarker : undefined;
      expect(pages.length).toBeLessThan(5);
    } while (marker !== undefined);

    expect(pages.map((p) => p.Contents.length)).toEqual([1000, 1000, 501]);
    expect(pages.map((p) => p.IsTruncated)).toEqual(['true', 'true', 'false']);
    expect(pages[0]!.NextMarker).toBe(pages[0]!.Contents.at(-1)!.Key);
    expect(pages[1]!.NextMarker).toBe(pages[1]!.Contents.at(-1)!.Key);
    expect(pages[2]!.NextMarker).toBeUndefined();
    const listed = pages.flatMap((p) => p.Contents.map((c) => c.Key));
    expect(listed).toEqual([...keys].sort());
    expect(pages[0]!.Contents[1]).toMatchObject({ Key: 'paging/0000', Size: '0', StorageClass: 'STANDARD' });
  }, 60_000);

  it('caps MaxKeys at 1000 and honours smaller MaxKeys', async () => {
    const capped = await cos.getBucket({ Bucket: BUCKET, Region: REGION, Prefix: 'paging/', MaxKeys: 5000 });
    expect(capped.Contents).toHaveLength(1000);
    expect(capped.MaxKeys).toBe('1000');
    const small = await cos.getBucket({ Bucket: BUCKET, Region: REGION, Prefix: 'paging/', MaxKeys: 3, Marker: 'paging/0010' });
    expect(small.Contents.map((c) => c.Key)).toEqual(['paging/0011', 'paging/0012', 'paging/0013']);
    expect(small.NextMarker).toBe('paging/0013');
  });

  it('groups keys under CommonPrefixes with a delimiter', async () => {
    for (const Key of ['tree/a/1', 'tree/a/2', 'tree/b/1', 'tree/c']) {
      await cos.putObject({ Bucket: BUCKET, Region: REGION, Key, Body: '' });
    }
    const first = await cos.getBucket({ Bucket: BUCKET, Region: REGION, Prefix: 'tree/', Delimiter: '/', MaxKeys: 2 });
    expect(first.CommonPrefixes.map((p) => p.Prefix)).toEqual(['tree/a/', 'tree/b/']);
    expect(first.Contents).toEqual([]);
    expect(first.NextMarker).toBe('tree/b/');
    const second = await cos.getBucket({
      Bucket: BUCKET,
      Region: REGION,
      Prefix: 'tree/',
      Delimiter: '/',
      Marker: first.NextMarker,
    });
    expect(second.CommonPrefixes).toEqual([]);
    expect(second.Contents.map((c) => c.Key)).toEqual(['tree/c']);
    expect(second.IsTruncated).toBe('false');
  });

  it('lists an empty bucket', async () => {
    await server.createBucket('empty-1250000000');
    const listed = await cos.getBucket({ Bucket: 'empty-1250000000', Region: REGION });
    expect(listed.Contents).toEqual([]);
    expect(listed.IsTruncated).toBe('false');
    expect(listed.headers?.['x-cos-request-id']).toBeTruthy();
  });

  it("uploads a large file in parts through the SDK's multipart flow", async () => {
    const data = randomBytes(2.5 * 1024 * 1024);
    const filePath = join(directory, 'upload.bin');
    await writeFile(filePath, data);
    const uploaded = await cos.uploadFile({
      Bucket: BUCKET,
      Region: REGION,
      Key: 'big/upload.bin',
      FilePath: filePath,
      SliceSize: 1024 * 1024,
    });
    expect(uploaded.statusCode).toBe(200);
    const got = await cos.getObject({ Bucket: BUCKET, Region: REGION, Key: 'big/upload.bin' });
    expect(got.Body.equals(data)).toBe(true);
  });

  it('answers HEAD Bucket', async () => {
    const found = await cos.headBucket({ Bucket: BUCKET, Region: REGION });
    expect(found.statusCode).toBe(200);
    const missing = await failure(cos.headBucket({ Bucket: 'nope-1250000000', Region: REGION }));
    expect(missing.statusCode).toBe(404);
  });

  it('answers an empty multipart upload listing', async () => {
    const uploads = await cos.multipartList({ Bucket: BUCKET, Region: REGION, Prefix: '', Delimiter: '' });
    expect(uploads.statusCode).toBe(200);
    expect(uploads.Upload).toEqual([]);
  });

  it('answers NoSuchBucket for a bucket that does not exist', async () => {
    const get = await failure(cos.getObject({ Bucket: 'nope-1250000000', Region: REGION, Key: 'x' }));
    expect(get.statusCode).toBe(404);
    expect(get.code).toBe('NoSuchBucket');
    const list = await failure(cos.getBucket({ Bucket: 'nope-1250000000', Region: REGION }));
    expect(list.statusCode).toBe(404);
    expect(list.code).toBe('NoSuchBucket');
  });

  it('refuses a wrong SecretKey with SignatureDoesNotMatch', async () => {
    const wrong = client(server, { secretId: credential.secretId, secretKey: randomBytes(24).toString('base64url') });
    const err = await failure(wrong.getObject({ Bucket: BUCKET, Region: REGION, Key: 'meta.txt' }));
    expect(err.statusCode).toBe(403);
    expect(err.code).toBe('SignatureDoesNotMatch');
  });

  it('refuses an unknown SecretId with InvalidAccessKeyId', async () => {
    const stranger = client(server, randomCredential());
    const err = await failure(stranger.putObject({ Bucket: BUCKET, Region: REGION, Key: 'x', Body: 'x' }));
    expect(err.statusCode).toBe(403);
    expect(err.code).toBe('InvalidAccessKeyId');
  });

  it('requires the session token of a temporary credential', async () => {
    const withToken = client(server, temporary, temporary.sessionToken);
    await withToken.putObject({ Bucket: BUCKET, Region: REGION, Key: 'sts.txt', Body: 'x' });

    const without = await failure(client(server, temporary).getObject({ Bucket: BUCKET, Region: REGION, Key: 'sts.txt' }));
    expect(without.statusCode).toBe(403);
    expect(without.code).toBe('InvalidAccessKeyId');

    const wrongToken = client(server, temporary, randomBytes(32).toString('base64url'));
    const wrong = await failure(wrongToken.getObject({ Bucket: BUCKET, Region: REGION, Key: 'sts.txt' }));
    expect(wrong.statusCode).toBe(403);
    expect(wrong.code).toBe('AccessDenied');
  });

  it('refuses unsigned requests with a COS error document', async () => {
    const res = await fetch(`${server.endpoint}/${BUCKET}/meta.txt`);
    expect(res.status).toBe(403);
    expect(res.headers.get('x-cos-request-id')).toBeTruthy();
    const body = await res.text();
    expect(body).toMatch(/^<\?xml version='1.0' encoding='utf-8' \?>/);
    expect(body).toContain('<Code>AccessDenied</Code>');
    expect(body).toContain(`<Resource>127.0.0.1:${server.port}/${BUCKET}/meta.txt</Resource>`);
    expect(body).toMatch(/<RequestId>[^<]+<\/RequestId>/);
    expect(body).toMatch(/<TraceId>[^<]+<\/TraceId>/);
  });

  it("rewrites s3rver's errors into COS error documents with a request id", async () => {
    const authorization = COS.getAuthorization({
      SecretId: credential.secretId,
      SecretKey: credential.secretKey,
      Method: 'GET',
      Key: 'no/such.key',
      Headers: { host: `127.0.0.1:${server.port}` },
    });
    const res = await fetch(`${server.endpoint}/${BUCKET}/no/such.key`, { headers: { authorization } });
    expect(res.status).toBe(404);
    const requestId = res.headers.get('x-cos-request-id');
    expect(requestId).toBeTruthy();
    const body = await res.text();
    expect(body).toMatch(/^<\?xml version='1.0' encoding='utf-8' \?>/);
    expect(body).toContain('<Code>NoSuchKey</Code>');
    expect(body).toContain(`<RequestId>${requestId}</RequestId>`);

    const err = await failure(cos.getObject({ Bucket: BUCKET, Region: REGION, Key: 'no/such.key' }));
    expect((err as { headers?: Record<string, string> }).headers?.['x-cos-request-id']).toBeTruthy();
  });

  it('serves pre-signed URLs from getObjectUrl', async () => {
    await cos.putObject({ Bucket: BUCKET, Region: REGION, Key: 'signed/url.txt', Body: 'presigned' });
    const url = cos.getObjectUrl({ Bucket: BUCKET, Region: REGION, Key: 'signed/url.txt', Sign: true });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('presigned');
  });

  it('keeps the data across a restart on the same directory', async () => {
    await cos.putObject({ Bucket: BUCKET, Region: REGION, Key: 'durable.txt', Body: 'still here' });
    await server.stop();
    await server.stop(); // a second stop is harmless
    server = newServer();
    await server.start();
    cos = client(server, credential);
    const got = await cos.getObject({ Bucket: BUCKET, Region: REGION, Key: 'durable.txt' });
    expect(got.Body.toString()).toBe('still here');
  });

  it('reports a port in use clearly', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const second = new CosServer({ directory, credentials: [credential], port });
      const err = await failure(second.start());
      expect(err.code).toBe('EADDRINUSE');
      expect(err.message).toContain(String(port));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
