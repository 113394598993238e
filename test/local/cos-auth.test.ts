/**
 * Every kind of request the local COS store answers is refused unsigned or wrongly signed, before
 * it can read or change anything: bucket listings as much as object reads and writes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import COS from 'cos-nodejs-sdk-v5';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomCredential } from '../../local/credentials';
import { CosServer } from '../../local/cos/server';

const BUCKET = 'auth-test-1250000000';
const REGION = 'ap-guangzhou';

/** Resolves to the SDK's error, failing the test if the call succeeds. */
async function failure(promise: Promise<unknown>): Promise<{ statusCode?: number; code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { statusCode?: number; code?: string };
  }
  throw new Error('expected the request to be refused, but it succeeded');
}

describe('local COS server: signatures on every kind of request', () => {
  let directory: string;
  let server: CosServer;
  let cos: COS;
  /** Same SecretId, another SecretKey: every signature it makes is wrong. */
  let forger: COS;
  const credential = randomCredential();

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'local-cos-auth-'));
    server = new CosServer({ directory, credentials: [credential], buckets: [BUCKET] });
    await server.start();
    cos = new COS({ SecretId: credential.secretId, SecretKey: credential.secretKey, Domain: server.domain });
    forger = new COS({ SecretId: credential.secretId, SecretKey: randomBytes(24).toString('base64url'), Domain: server.domain });
  });

  // each request starts from the same bucket, so one that gets through fails only its own test
  beforeEach(async () => {
    await cos.putObject({ Bucket: BUCKET, Region: REGION, Key: 'secret/plan.txt', Body: 'the plan' });
    await cos.deleteObject({ Bucket: BUCKET, Region: REGION, Key: 'secret/forged.txt' });
    await rm(join(directory, BUCKET, '._S3rver_uploads'), { recursive: true, force: true });
  });

  afterAll(async () => {
    await server?.stop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  /** The requests, each as an unsigned raw request and as an SDK call. */
  const kinds: Array<{ name: string; method: string; path: string; body?: string; call(client: COS): Promise<unknown> }> = [
    {
      name: 'GET Bucket (listing)',
      method: 'GET',
      path: `/${BUCKET}?prefix=secret%2F`,
      call: (c) => c.getBucket({ Bucket: BUCKET, Region: REGION, Prefix: 'secret/' }),
    },
    { name: 'GET Bucket without parameters', method: 'GET', path: `/${BUCKET}`, call: (c) => c.getBucket({ Bucket: BUCKET, Region: REGION }) },
    {
      name: 'GET Object',
      method: 'GET',
      path: `/${BUCKET}/secret/plan.txt`,
      call: (c) => c.getObject({ Bucket: BUCKET, Region: REGION, Key: 'secret/plan.txt' }),
    },
    {
      name: 'HEAD Object',
      method: 'HEAD',
      path: `/${BUCKET}/secret/plan.txt`,
      call: (c) => c.headObject({ Bucket: BUCKET, Region: REGION, Key: 'secret/plan.txt' }),
    },
    { name: 'HEAD Bucket', method: 'HEAD', path: `/${BUCKET}`, call: (c) => c.headBucket({ Bucket: BUCKET, Region: REGION }) },
    {
      name: 'PUT Object',
      method: 'PUT',
      path: `/${BUCKET}/secret/forged.txt`,
      body: 'forged',
      call: (c) => c.putObject({ Bucket: BUCKET, Region: REGION, Key: 'secret/forged.txt', Body: 'forged' }),
    },
    {
      name: 'DELETE Object',
      method: 'DELETE',
      path: `/${BUCKET}/secret/plan.txt`,
      call: (c) => c.deleteObject({ Bucket: BUCKET, Region: REGION, Key: 'secret/plan.txt' }),
    },
    {
      name: 'POST Bucket ?delete',
      method: 'POST',
      path: `/${BUCKET}?delete`,
      body: '<Delete><Object><Key>secret/plan.txt</Key></Object></Delete>',
      call: (c) => c.deleteMultipleObject({ Bucket: BUCKET, Region: REGION, Objects: [{ Key: 'secret/plan.txt' }] }),
    },
    {
      name: 'POST Object ?uploads (multipart start)',
      method: 'POST',
      path: `/${BUCKET}/secret/big.bin?uploads`,
      call: (c) => c.multipartInit({ Bucket: BUCKET, Region: REGION, Key: 'secret/big.bin' }),
    },
    {
      name: 'GET Bucket ?uploads (multipart listing)',
      method: 'GET',
      path: `/${BUCKET}?uploads`,
      call: (c) => c.multipartList({ Bucket: BUCKET, Region: REGION, Prefix: '', Delimiter: '' }),
    },
  ];

  /** What must be unchanged after a refused request: the object, and no forged object or upload. */
  async function expectUntouched(): Promise<void> {
    const got = await cos.getObject({ Bucket: BUCKET, Region: REGION, Key: 'secret/plan.txt' });
    expect(got.Body.toString()).toBe('the plan');
    const listed = await cos.getBucket({ Bucket: BUCKET, Region: REGION });
    expect(listed.Contents.map((c) => c.Key)).toEqual(['secret/plan.txt']);
    // a started multipart upload would leave s3rver's uploads folder in the bucket
    expect((await readdir(join(directory, BUCKET))).filter((name) => name.includes('uploads'))).toEqual([]);
  }

  it.each(kinds)('refuses $name without a signature', async (kind) => {
    const headers: Record<string, string> = {};
    if (kind.body !== undefined) headers['content-md5'] = createHash('md5').update(kind.body).digest('base64');
    const res = await fetch(`${server.endpoint}${kind.path}`, { method: kind.method, headers, body: kind.body });
    expect(res.status).toBe(403);
    // a HEAD answer has no body to carry the code
    if (kind.method !== 'HEAD') expect(await res.text()).toContain('<Code>AccessDenied</Code>');
    await expectUntouched();
  });

  it.each(kinds)('refuses $name signed with the wrong SecretKey', async (kind) => {
    const err = await failure(kind.call(forger));
    expect(err.statusCode).toBe(403);
    if (kind.method !== 'HEAD') expect(err.code).toBe('SignatureDoesNotMatch');
    await expectUntouched();
  });

  it('refuses a listing whose signed prefix was changed on the way', async () => {
    const authorization = COS.getAuthorization({
      SecretId: credential.secretId,
      SecretKey: credential.secretKey,
      Method: 'GET',
      Key: '',
      Query: { prefix: 'public/' },
      Headers: { host: `127.0.0.1:${server.port}` },
    });
    const allowed = await fetch(`${server.endpoint}/${BUCKET}?prefix=public%2F`, { headers: { authorization } });
    expect(allowed.status).toBe(200);
    const tampered = await fetch(`${server.endpoint}/${BUCKET}?prefix=secret%2F`, { headers: { authorization } });
    expect(tampered.status).toBe(403);
    const body = await tampered.text();
    expect(body).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(body).not.toContain('plan.txt');
  });

  it.each(kinds)('answers $name when signed correctly', async (kind) => {
    await kind.call(cos);
  });
});
