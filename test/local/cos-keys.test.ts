/**
 * Object keys as COS takes them, through cos-nodejs-sdk-v5 and the local COS server: up to 850
 * bytes of UTF-8 with segments of any length, control characters listed URL-encoded, and the
 * listing never an XML document parsers cannot read.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import COS from 'cos-nodejs-sdk-v5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomCredential } from '../../local/credentials';
import { MAX_KEY_BYTES } from '../../local/cos/paths';
import { CosServer } from '../../local/cos/server';
import { nonXmlCharacter } from '../../local/cos/xml';

const BUCKET = 'keys-test-1250000000';
const REGION = 'ap-guangzhou';

/** Resolves to the SDK's error, failing the test if the call succeeds. */
async function failure(promise: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { statusCode?: number; code?: string; message?: string };
  }
  throw new Error('expected the request to fail');
}

/** `prefix` followed by 'é' (2 bytes) and 'a' up to exactly `bytes` bytes of UTF-8. */
function keyOfBytes(prefix: string, bytes: number): string {
  const rest = bytes - Buffer.byteLength(prefix);
  return prefix + 'é'.repeat(Math.floor(rest / 2)) + 'a'.repeat(rest % 2);
}

describe('local COS server: object keys', () => {
  let directory: string;
  let server: CosServer;
  let cos: COS;
  const credential = randomCredential();

  /** The raw listing document, signed, for checks the SDK's lenient parser would hide. */
  async function rawListing(query: Record<string, string>): Promise<{ status: number; body: string }> {
    const authorization = COS.getAuthorization({
      SecretId: credential.secretId,
      SecretKey: credential.secretKey,
      Method: 'GET',
      Key: '',
      Query: query,
      Headers: { host: `127.0.0.1:${server.port}` },
    });
    const res = await fetch(`${server.endpoint}/${BUCKET}?${new URLSearchParams(query).toString().replace(/\+/g, '%20')}`, { headers: { authorization } });
    return { status: res.status, body: await res.text() };
  }

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'local-cos-keys-'));
    // an object of the per-object layout earlier versions wrote, with its tags beside it
    const legacy = join(directory, BUCKET, 'old', 'tagged.txt');
    await mkdir(dirname(legacy), { recursive: true });
    await writeFile(`${legacy}._S3rver_object`, 'old body');
    await writeFile(`${legacy}._S3rver_metadata.json`, '{"content-type":"text/plain"}');
    await writeFile(`${legacy}._S3rver_tagging.xml`, '<Tagging><TagSet><Tag><Key>era</Key><Value>old</Value></Tag></TagSet></Tagging>');
    server = new CosServer({ directory, credentials: [credential], buckets: [BUCKET] });
    await server.start();
    cos = new COS({ SecretId: credential.secretId, SecretKey: credential.secretKey, Domain: server.domain });
  });

  afterAll(async () => {
    await server?.stop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it(`stores a key of exactly ${MAX_KEY_BYTES} bytes whose one segment is over 800 bytes`, async () => {
    const key = keyOfBytes('long/', MAX_KEY_BYTES);
    expect(Buffer.byteLength(key)).toBe(MAX_KEY_BYTES);
    await cos.putObject({ Bucket: BUCKET, Region: REGION, Key: key, Body: 'long' });
    const got = await cos.getObject({ Bucket: BUCKET, Region: REGION, Key: key });
    expect(got.Body.toString()).toBe('long');
    const listed = await cos.getBucket({ Bucket: BUCKET, Region: REGION, Prefix: 'long/' });
    expect(listed.Contents.map((c) => c.Key)).toEqual([key]);
    await cos.deleteObject({ Bucket: BUCKET, Region: REGION, Key: key });
    expect((await failure(cos.headObject({ Bucket: BUCKET, Region: REGION, Key: key }))).statusCode).toBe(404);
  });

  it(`refuses a key of ${MAX_KEY_BYTES + 1} bytes with KeyTooLong`, async () => {
    const key = keyOfBytes('long/', MAX_KEY_BYTES + 1);
    const err = await failure(cos.putObject({ Bucket: BUCKET, Region: REGION, Key: key, Body: 'x' }));
    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('KeyTooLong');
    expect(err.message).toContain(String(MAX_KEY_BYTES));
  });

  it('keeps the tags of a key with a long segment, and drops them with the object', async () => {
    const key = keyOfBytes('tagged/', 700) + '/leaf.txt';
    await cos.putObject({ Bucket: BUCKET, Region: REGION, Key: key, Body: 'x' });
    await cos.putObjectTagging({ Bucket: BUCKET, Region: REGION, Key: key, Tags: [{ Key: 'room', Value: 'lobby' }] });
    const tags = await cos.getObjectTagging({ Bucket: BUCKET, Region: REGION, Key: key });
    expect(tags.Tags).toEqual([{ Key: 'room', Value: 'lobby' }]);

    await cos.deleteObject({ Bucket: BUCKET, Region: REGION, Key: key });
    await cos.putObject({ Bucket: BUCKET, Region: REGION, Key: key, Body: 'y' });
    // a new object under the key starts without the deleted one's tags
    expect((await cos.getObjectTagging({ Bucket: BUCKET, Region: REGION, Key: key })).Tags).toEqual([]);
  });

  it('keeps the tags of an object stored in the old per-object layout', async () => {
    const got = await cos.getObject({ Bucket: BUCKET, Region: REGION, Key: 'old/tagged.txt' });
    expect(got.Body.toString()).toBe('old body');
    const tags = await cos.getObjectTagging({ Bucket: BUCKET, Region: REGION, Key: 'old/tagged.txt' });
    expect(tags.Tags).toEqual([{ Key: 'era', Value: 'old' }]);
  });

  describe('a key with a control character (U+0001)', () => {
    const keys = ['ctl/a\u0001b', 'ctl/a\u0001c', 'ctl/plain'];

    beforeAll(async () => {
      for (const key of keys) await cos.putObject({ Bucket: BUCKET, Region: REGION, Key: key, Body: JSON.stringify(key) });
    });

    it('is stored and read back as COS accepts it', async () => {
      const got = await cos.getObject({ Bucket: BUCKET, Region: REGION, Key: keys[0]! });
      expect(got.Body.toString()).toBe(JSON.stringify(keys[0]));
    });

    it('is listed URL-encoded with encoding-type=url, with prefix and markers encoded too', async () => {
      const first = await cos.getBucket({ Bucket: BUCKET, Region: REGION, Prefix: 'ctl/', MaxKeys: 1, EncodingType: 'url' });
      expect(first.EncodingType).toBe('url');
      expect(first.Prefix).toBe('ctl%2F');
      expect(first.Contents.map((c) => c.Key)).toEqual(['ctl%2Fa%01b']);
      expect(first.NextMarker).toBe('ctl%2Fa%01b');
      const rest = await cos.getBucket({
        Bucket: BUCKET,
        Region: REGION,
        Prefix: 'ctl/',
        Marker: decodeURIComponent(first.NextMarker!),
        EncodingType: 'url',
      });
      expect(rest.Marker).toBe('ctl%2Fa%01b');
      expect(rest.Contents.map((c) => decodeURIComponent(c.Key))).toEqual(keys.slice(1));

      const raw = await rawListing({ prefix: 'ctl/', 'encoding-type': 'url' });
      expect(raw.status).toBe(200);
      expect(nonXmlCharacter(raw.body)).toBeUndefined();
    });

    it('refuses a listing without encoding-type that would hold it, saying what to do, in well-formed XML', async () => {
      const err = await failure(cos.getBucket({ Bucket: BUCKET, Region: REGION, Prefix: 'ctl/' }));
      expect(err.statusCode).toBe(400);
      expect(err.code).toBe('InvalidArgument');
      expect(err.message).toContain('encoding-type=url');
      const raw = await rawListing({ prefix: 'ctl/' });
      expect(raw.status).toBe(400);
      expect(nonXmlCharacter(raw.body)).toBeUndefined();
      // a listing that does not reach the key still answers
      const plain = await cos.getBucket({ Bucket: BUCKET, Region: REGION, Prefix: 'ctl/p' });
      expect(plain.Contents.map((c) => c.Key)).toEqual(['ctl/plain']);
    });

    it('refuses CAN, EM, SUB and ESC, which COS does not support in keys', async () => {
      for (const character of ['\u0018', '\u0019', '\u001a', '\u001b']) {
        const err = await failure(cos.putObject({ Bucket: BUCKET, Region: REGION, Key: `ctl/x${character}y`, Body: 'x' }));
        expect(err.statusCode).toBe(400);
        expect(err.code).toBe('InvalidObjectName');
      }
    });
  });
});
