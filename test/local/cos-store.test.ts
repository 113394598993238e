/**
 * Tests of the local COS object store over its per-bucket journal, and of large and ranged
 * objects through the HTTP server with the real SDK.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import FilesystemStore from 's3rver/lib/stores/filesystem.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { BLOB_FOLDER, INLINE_BODY_BYTES, JOURNAL_FILE } from '../../local/cos/journal';
import { ObjectStore } from '../../local/cos/store';
import { type CosFixture, TEST_REGION, startCos } from '../support/cos-fixture';

const BUCKET = 'examplebucket-1250000000';

function md5(body: Buffer): string {
  return createHash('md5').update(body).digest('hex');
}

async function readAll(stream: unknown): Promise<Buffer> {
  if (!(stream instanceof Readable)) throw new Error(`expected a Readable, got ${String(stream)}`);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Names in the bucket's blob folder; [] when the folder does not exist. */
async function blobFiles(dir: string): Promise<string[]> {
  try {
    return await readdir(join(dir, BUCKET, BLOB_FOLDER));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Rejects after `ms`, so a call that never settles fails the test quickly instead of hanging it. */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A stream of `body` in `chunks` pieces, handed out asynchronously like a socket would. */
function streamOf(body: Buffer, chunks = 4): Readable {
  const size = Math.ceil(body.length / chunks);
  return Readable.from(
    (async function* () {
      for (let at = 0; at < body.length; at += size) {
        await new Promise((resolve) => setImmediate(resolve));
        yield body.subarray(at, at + size);
      }
    })(),
  );
}

describe('ObjectStore', () => {
  let dir: string;
  let store: ObjectStore;
  /** The keys a listing would walk, as an array. */
  const after = async (marker: string, prefix?: string) => [...(await store.keysAfter(BUCKET, marker, prefix))];
  let warnings: string[];
  const warn = (message: string) => warnings.push(message);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cos-store-'));
    warnings = [];
    store = new ObjectStore(dir, warn);
    await store.createBucket(BUCKET);
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps a small body inline in the journal, with its md5, size and stored headers', async () => {
    const body = Buffer.from('{"room":"lobby","n":1}');
    const written = await store.writeObject(BUCKET, 'rooms/lobby.json', body, {
      'content-type': 'application/json',
      'cache-control': 'no-cache',
      'content-disposition': 'inline',
      'x-amz-meta-owner': 'ann',
      authorization: 'q-sign-algorithm=sha1&q-signature=secret',
      host: '127.0.0.1',
      'content-length': '999',
      'x-cos-security-token': 'token',
    });
    expect(written).toEqual({ md5: md5(body), size: body.length });
    expect(await blobFiles(dir)).toEqual([]);
    expect((await readFile(join(dir, BUCKET, JOURNAL_FILE))).includes(body)).toBe(true);

    const metadata = await store.getMetadata(BUCKET, 'rooms/lobby.json');
    expect(metadata).toEqual({
      'content-type': 'application/json',
      'cache-control': 'no-cache',
      'content-disposition': 'inline',
      'x-amz-meta-owner': 'ann',
      etag: JSON.stringify(md5(body)),
      'last-modified': expect.any(String),
      'content-length': body.length,
    });
    expect(Date.now() - new Date(metadata['last-modified']).getTime()).toBeLessThan(60_000);

    const object = await store.getObject(BUCKET, 'rooms/lobby.json');
    expect(object?.metadata['content-type']).toBe('application/json');
    expect(object?.range).toBeUndefined();
    expect((await readAll(object?.content)).equals(body)).toBe(true);
    expect(await store.existsObject(BUCKET, 'rooms/lobby.json')).toBe(true);
    expect(await store.existsObject(BUCKET, 'rooms/other.json')).toBe(false);
  });

  it('keeps a body of exactly INLINE_BODY_BYTES inline and one byte more in a blob', async () => {
    const edge = randomBytes(INLINE_BODY_BYTES);
    await store.writeObject(BUCKET, 'edge', edge, {});
    expect(await blobFiles(dir)).toEqual([]);
    const over = randomBytes(INLINE_BODY_BYTES + 1);
    await store.writeObject(BUCKET, 'over', over, {});
    expect(await blobFiles(dir)).toHaveLength(1);
    expect((await readAll((await store.getObject(BUCKET, 'edge'))?.content)).equals(edge)).toBe(true);
    expect((await readAll((await store.getObject(BUCKET, 'over'))?.content)).equals(over)).toBe(true);
  });

  it('stores a 200 KB Buffer body in blobs/ and reads it back byte-exactly', async () => {
    const body = randomBytes(200_000);
    const written = await store.writeObject(BUCKET, 'big/buffer.bin', body, { 'content-type': 'application/octet-stream', authorization: 'secret' });
    expect(written).toEqual({ md5: md5(body), size: body.length });
    const blobs = await blobFiles(dir);
    expect(blobs).toHaveLength(1);
    expect((await readFile(join(dir, BUCKET, BLOB_FOLDER, blobs[0]!))).equals(body)).toBe(true);
    // the journal holds the record, not the body
    expect((await stat(join(dir, BUCKET, JOURNAL_FILE))).size).toBeLessThan(1_000);

    const metadata = await store.getMetadata(BUCKET, 'big/buffer.bin');
    expect(metadata.etag).toBe(JSON.stringify(md5(body)));
    expect(metadata['content-length']).toBe(body.length);
    expect(metadata['content-type']).toBe('application/octet-stream');
    expect(metadata).not.toHaveProperty('authorization');

    const object = await store.getObject(BUCKET, 'big/buffer.bin');
    expect((await readAll(object?.content)).equals(body)).toBe(true);
  });

  it('stores a body given as a stream in blobs/ and reads it back byte-exactly', async () => {
    const body = randomBytes(300_000);
    const written = await store.writeObject(BUCKET, 'big/stream.bin', streamOf(body, 7), {
      'content-type': 'video/mp4',
      'x-amz-meta-origin': 'upload',
      authorization: 'secret',
    });
    expect(written).toEqual({ md5: md5(body), size: body.length });
    expect(await blobFiles(dir)).toHaveLength(1);
    const metadata = await store.getMetadata(BUCKET, 'big/stream.bin');
    expect(metadata.etag).toBe(JSON.stringify(md5(body)));
    expect(metadata['content-length']).toBe(300_000);
    expect(metadata['content-type']).toBe('video/mp4');
    expect(metadata['x-amz-meta-origin']).toBe('upload');
    expect(metadata).not.toHaveProperty('authorization');
    expect((await readAll((await store.getObject(BUCKET, 'big/stream.bin'))?.content)).equals(body)).toBe(true);
  });

  it('serves ranges of inline and blob objects, and no content for an unsatisfiable range', async () => {
    const small = Buffer.from('hello world');
    const large = randomBytes(200_000);
    await store.writeObject(BUCKET, 'small.txt', small, { 'content-type': 'text/plain' });
    await store.writeObject(BUCKET, 'large.bin', large, {});

    const middle = await store.getObject(BUCKET, 'small.txt', { start: 2, end: 6 });
    expect(middle?.range).toEqual({ start: 2, end: 6 });
    expect((await readAll(middle?.content)).toString()).toBe('llo w');
    const tail = await store.getObject(BUCKET, 'small.txt', { start: 6 });
    expect(tail?.range).toEqual({ start: 6, end: 10 });
    expect((await readAll(tail?.content)).toString()).toBe('world');
    const clipped = await store.getObject(BUCKET, 'small.txt', { start: 0, end: 1_000 });
    expect(clipped?.range).toEqual({ start: 0, end: 10 });
    expect((await readAll(clipped?.content)).toString()).toBe('hello world');

    const blobRange = await store.getObject(BUCKET, 'large.bin', { start: 100_000, end: 100_009 });
    expect(blobRange?.range).toEqual({ start: 100_000, end: 100_009 });
    expect((await readAll(blobRange?.content)).equals(large.subarray(100_000, 100_010))).toBe(true);
    const blobTail = await store.getObject(BUCKET, 'large.bin', { start: 199_990 });
    expect(blobTail?.range).toEqual({ start: 199_990, end: 199_999 });
    expect((await readAll(blobTail?.content)).equals(large.subarray(199_990))).toBe(true);

    const beyond = await store.getObject(BUCKET, 'small.txt', { start: 500 });
    expect(beyond).not.toBeNull();
    expect(beyond?.content).toBeNull();
    expect(beyond?.range).toEqual({ start: 500, end: 10 });
    const beyondBlob = await store.getObject(BUCKET, 'large.bin', { start: 300_000, end: 300_010 });
    expect(beyondBlob?.content).toBeNull();
    expect(beyondBlob?.range).toBeDefined();

    expect(await store.getObject(BUCKET, 'missing', { start: 0, end: 1 })).toBeNull();
  });

  it('removes the old blob when a blob object is overwritten with a small body, and when it is deleted', async () => {
    await store.writeObject(BUCKET, 'avatar.png', randomBytes(100_000), {});
    expect(await blobFiles(dir)).toHaveLength(1);
    await store.writeObject(BUCKET, 'avatar.png', Buffer.from('tiny'), {});
    expect((await readAll((await store.getObject(BUCKET, 'avatar.png'))?.content)).toString()).toBe('tiny');
    // removed right after the new record is written; the write may resolve a moment before
    await vi.waitFor(async () => expect(await blobFiles(dir)).toEqual([]), { timeout: 2_000 });

    const second = randomBytes(100_000);
    await store.writeObject(BUCKET, 'avatar.png', second, {});
    const [blob] = await blobFiles(dir);
    expect(blob).toBeDefined();
    const third = randomBytes(120_000);
    await store.writeObject(BUCKET, 'avatar.png', third, {});
    // a blob replaced by another blob goes too
    await vi.waitFor(
      async () => {
        const names = await blobFiles(dir);
        expect(names).toHaveLength(1);
        expect(names).not.toContain(blob);
      },
      { timeout: 2_000 },
    );
    expect((await readAll((await store.getObject(BUCKET, 'avatar.png'))?.content)).equals(third)).toBe(true);

    await store.deleteObject(BUCKET, 'avatar.png');
    expect(await store.getObject(BUCKET, 'avatar.png')).toBeNull();
    await expect(store.getMetadata(BUCKET, 'avatar.png')).rejects.toMatchObject({ code: 'ENOENT' });
    await vi.waitFor(async () => expect(await blobFiles(dir)).toEqual([]), { timeout: 2_000 });
    // deleting a missing key succeeds
    await store.deleteObject(BUCKET, 'avatar.png');
  });

  it('rejects a write whose stream fails midway, keeping the previous version and no blob', async () => {
    const previous = Buffer.from('version 1');
    await store.writeObject(BUCKET, 'upload.bin', previous, { 'content-type': 'text/plain' });
    const failing = Readable.from(
      (async function* () {
        yield randomBytes(100_000);
        await new Promise((resolve) => setImmediate(resolve));
        yield randomBytes(100_000);
        throw new Error('connection reset by peer');
      })(),
    );
    await expect(store.writeObject(BUCKET, 'upload.bin', failing, { 'content-type': 'application/zip' })).rejects.toThrow('connection reset by peer');

    expect(await blobFiles(dir)).toEqual([]);
    const object = await store.getObject(BUCKET, 'upload.bin');
    expect((await readAll(object?.content)).equals(previous)).toBe(true);
    const metadata = await store.getMetadata(BUCKET, 'upload.bin');
    expect(metadata['content-type']).toBe('text/plain');
    expect(metadata.etag).toBe(JSON.stringify(md5(previous)));

    // a stream destroyed with an error behaves the same, over a previous version in a blob
    const previousBlob = randomBytes(90_000);
    await store.writeObject(BUCKET, 'upload.bin', previousBlob, {});
    const kept = await blobFiles(dir);
    expect(kept).toHaveLength(1);
    let reads = 0;
    // destroyed from inside read(), so only once writeObject is consuming it
    const destroyed = new Readable({
      read() {
        if (reads++ === 0) this.push(randomBytes(70_000));
        else setImmediate(() => this.destroy(new Error('aborted')));
      },
    });
    await expect(store.writeObject(BUCKET, 'upload.bin', destroyed, {})).rejects.toThrow('aborted');
    expect(await blobFiles(dir)).toEqual(kept);
    expect((await readAll((await store.getObject(BUCKET, 'upload.bin'))?.content)).equals(previousBlob)).toBe(true);
  });

  it('lists keys strictly after a marker in UTF-8 order, and skips missing keys in objectInfos', async () => {
    const keys = ['b', 'a', '😀', '\ufffd', 'c', 'a/b', 'a-b'];
    for (const key of keys) await store.writeObject(BUCKET, key, Buffer.from(`body:${key}`), {});
    const ordered = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(ordered).toEqual(['a', 'a-b', 'a/b', 'b', 'c', '\ufffd', '😀']);

    expect(await after('')).toEqual(ordered);
    expect(await after('a')).toEqual(['a-b', 'a/b', 'b', 'c', '\ufffd', '😀']);
    expect(await after('b')).toEqual(['c', '\ufffd', '😀']);
    expect(await after('bb')).toEqual(['c', '\ufffd', '😀']);
    expect(await after('\ufffd')).toEqual(['😀']);
    expect(await after('\ue000')).toEqual(['\ufffd', '😀']);
    expect(await after('😀')).toEqual([]);
    expect(await after('\u{10ffff}')).toEqual([]);
    // Straight to a prefix's range, and past a marker inside it.
    expect(await after('', 'b')).toEqual(['b', 'c', '\ufffd', '😀']);
    expect(await after('a-b', 'a')).toEqual(['a/b', 'b', 'c', '\ufffd', '😀']);
    expect(await after('c', 'a')).toEqual(['\ufffd', '😀']);
    // Kept in order key by key as keys come and go.
    await store.writeObject(BUCKET, 'bz', Buffer.from('x'), {});
    await store.deleteObject(BUCKET, 'a-b');
    expect(await after('')).toEqual(['a', 'a/b', 'b', 'bz', 'c', '\ufffd', '😀']);
    await store.deleteObject(BUCKET, 'bz');
    await store.writeObject(BUCKET, 'a-b', Buffer.from('x'), {});

    const before = Date.now();
    await store.writeObject(BUCKET, 'c', Buffer.from('longer body of c'), {});
    const infos = await store.objectInfos(BUCKET, ['a', 'missing', 'c', '😀']);
    expect(infos.map((info) => info.key)).toEqual(['a', 'c', '😀']);
    expect(infos[0]).toEqual({ key: 'a', etag: JSON.stringify(md5(Buffer.from('body:a'))), size: 6, lastModified: expect.any(Date) });
    expect(infos[1]!.size).toBe(16);
    expect(infos[1]!.etag).toBe(JSON.stringify(md5(Buffer.from('longer body of c'))));
    expect(infos[1]!.lastModified.getTime()).toBeGreaterThanOrEqual(before);
    expect(infos[2]!.size).toBe(Buffer.byteLength('body:😀'));

    await store.deleteObject(BUCKET, 'b');
    expect(await after('a/b')).toEqual(['c', '\ufffd', '😀']);
    expect(await store.objectInfos(BUCKET, ['b'])).toEqual([]);
  });

  it('keeps inline and blob objects across close() and a new store on the same folder', async () => {
    const small = Buffer.from('small body');
    const large = randomBytes(150_000);
    await store.writeObject(BUCKET, 'keep/small', small, { 'content-type': 'text/plain', 'x-amz-meta-v': '1' });
    await store.writeObject(BUCKET, 'keep/large', large, { 'content-type': 'image/png' });
    await store.writeObject(BUCKET, 'keep/deleted', Buffer.from('x'), {});
    await store.deleteObject(BUCKET, 'keep/deleted');
    await store.close();

    store = new ObjectStore(dir, warn);
    expect(await store.bucketExists(BUCKET)).toBe(true);
    expect(await after('')).toEqual(['keep/large', 'keep/small']);
    const smallMeta = await store.getMetadata(BUCKET, 'keep/small');
    expect(smallMeta['content-type']).toBe('text/plain');
    expect(smallMeta['x-amz-meta-v']).toBe('1');
    expect(smallMeta.etag).toBe(JSON.stringify(md5(small)));
    expect((await readAll((await store.getObject(BUCKET, 'keep/small'))?.content)).equals(small)).toBe(true);
    const largeMeta = await store.getMetadata(BUCKET, 'keep/large');
    expect(largeMeta['content-type']).toBe('image/png');
    expect(largeMeta['content-length']).toBe(150_000);
    expect((await readAll((await store.getObject(BUCKET, 'keep/large'))?.content)).equals(large)).toBe(true);
    expect(await blobFiles(dir)).toHaveLength(1);
    expect(warnings).toEqual([]);
  });

  it('reports a non-empty bucket to listObjects, and deleteBucket removes the folder', async () => {
    const empty = await store.listObjects(BUCKET, { maxKeys: 1 });
    expect(empty.objects).toEqual([]);
    expect(empty.isTruncated).toBe(false);

    await store.writeObject(BUCKET, 'one', Buffer.from('1'), { 'content-type': 'text/plain' });
    await store.writeObject(BUCKET, 'two', randomBytes(100_000), {});
    const listed = await store.listObjects(BUCKET, { maxKeys: 1 });
    expect(listed.objects.map((object) => object.key)).toEqual(['one']);
    expect(listed.objects[0]!.metadata['content-type']).toBe('text/plain');
    expect(listed.isTruncated).toBe(true);
    expect(listed.commonPrefixes).toEqual([]);
    const all = await store.listObjects(BUCKET);
    expect(all.objects.map((object) => object.key)).toEqual(['one', 'two']);
    expect(all.isTruncated).toBe(false);

    await store.deleteBucket(BUCKET);
    expect(await exists(join(dir, BUCKET))).toBe(false);
    expect(await store.bucketExists(BUCKET)).toBe(false);

    // a bucket created again under the same name starts empty
    await store.createBucket(BUCKET);
    expect(await after('')).toEqual([]);
    expect(await store.getObject(BUCKET, 'one')).toBeNull();
  });
});

describe('ObjectStore import of the per-object file layout', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cos-store-legacy-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the legacy files as the test expects', () => {
    // the layout written below is the one s3rver's own store uses
    const legacy = new FilesystemStore(dir);
    expect(legacy.getResourcePath(BUCKET, 'rooms/a.json', 'object')).toBe(join(dir, BUCKET, 'rooms', 'a.json._S3rver_object'));
    expect(legacy.getResourcePath(BUCKET, 'rooms/a.json', 'object.md5')).toBe(join(dir, BUCKET, 'rooms', 'a.json._S3rver_object.md5'));
    expect(legacy.getResourcePath(BUCKET, 'top.txt', 'metadata.json')).toBe(join(dir, BUCKET, 'top.txt._S3rver_metadata.json'));
  });

  // the import must write to the journal being opened: waiting for the bucket's journal from inside
  // its own open would never finish, hence the time limit
  it('imports objects of the old layout on first access and removes their files', async () => {
    const legacy = new FilesystemStore(dir);
    const objects = [
      { key: 'rooms/a.json', body: Buffer.from('{"room":"a"}'), metadata: { 'content-type': 'application/json', 'x-amz-meta-owner': 'ann' } },
      { key: 'top.txt', body: Buffer.from('top level'), metadata: { 'content-type': 'text/plain' } },
    ];
    const files: string[] = [];
    for (const { key, body, metadata } of objects) {
      const objectPath = legacy.getResourcePath(BUCKET, key, 'object');
      await mkdir(dirname(objectPath), { recursive: true });
      await writeFile(objectPath, body);
      await writeFile(legacy.getResourcePath(BUCKET, key, 'object.md5'), md5(body));
      await writeFile(legacy.getResourcePath(BUCKET, key, 'metadata.json'), JSON.stringify(metadata, null, 2));
      files.push(objectPath, legacy.getResourcePath(BUCKET, key, 'object.md5'), legacy.getResourcePath(BUCKET, key, 'metadata.json'));
    }
    // s3rver itself reads this layout back, so the files above are what it wrote
    expect((await legacy.getMetadata(BUCKET, 'rooms/a.json'))['content-type']).toBe('application/json');

    const warnings: string[] = [];
    const store = new ObjectStore(dir, (message) => warnings.push(message));
    let opened = false;
    try {
      const keys = await within(5_000, store.keysAfter(BUCKET, ''), 'opening a bucket with legacy objects');
      opened = true;
      expect([...keys]).toEqual(['rooms/a.json', 'top.txt']);
      for (const { key, body, metadata } of objects) {
        const stored = await store.getMetadata(BUCKET, key);
        expect(stored['content-type']).toBe(metadata['content-type']);
        expect(stored.etag).toBe(JSON.stringify(md5(body)));
        expect(stored['content-length']).toBe(body.length);
        expect((await readAll((await store.getObject(BUCKET, key))?.content)).equals(body)).toBe(true);
      }
      expect((await store.getMetadata(BUCKET, 'rooms/a.json'))['x-amz-meta-owner']).toBe('ann');
      expect(warnings.some((message) => message.includes('moved 2 objects'))).toBe(true);
      for (const path of files) expect(await exists(path), path).toBe(false);
    } finally {
      // a store whose open never finished cannot be closed (close waits for the open)
      if (opened) await store.close();
    }

    // the imported objects are in the journal: a new store finds them without the old files
    const again = new ObjectStore(dir, () => {});
    try {
      expect([...(await again.keysAfter(BUCKET, ''))]).toEqual(['rooms/a.json', 'top.txt']);
    } finally {
      await again.close();
    }
  });
});

describe('local COS server: large and ranged objects through cos-nodejs-sdk-v5', () => {
  let fixture: CosFixture;

  beforeAll(async () => {
    fixture = await startCos();
  });

  afterAll(async () => {
    await fixture?.stop();
  });

  it('streams a 3 MB putObject to disk and reads it back byte-exactly, also by range', async () => {
    const { cos, bucket } = fixture;
    const data = randomBytes(3 * 1024 * 1024);
    const put = await cos.putObject({ Bucket: bucket, Region: TEST_REGION, Key: 'media/big.bin', Body: data, ContentType: 'application/octet-stream' });
    expect(put.statusCode).toBe(200);
    expect(put.ETag).toBe(JSON.stringify(md5(data)));
    // above the server's 1 MiB in-memory limit, so it went to a blob file
    const blobs = await readdir(join(fixture.dir, bucket, BLOB_FOLDER));
    expect(blobs).toHaveLength(1);
    expect((await stat(join(fixture.dir, bucket, BLOB_FOLDER, blobs[0]!))).size).toBe(data.length);

    const got = await cos.getObject({ Bucket: bucket, Region: TEST_REGION, Key: 'media/big.bin' });
    expect(got.statusCode).toBe(200);
    expect(got.Body.length).toBe(data.length);
    expect(got.Body.equals(data)).toBe(true);
    expect(got.ETag).toBe(put.ETag);

    const ranged = await cos.getObject({ Bucket: bucket, Region: TEST_REGION, Key: 'media/big.bin', Range: 'bytes=5-9' });
    expect(ranged.statusCode).toBe(206);
    expect(ranged.headers?.['content-range']).toBe(`bytes 5-9/${data.length}`);
    expect(ranged.Body.equals(data.subarray(5, 10))).toBe(true);

    const tail = await cos.getObject({ Bucket: bucket, Region: TEST_REGION, Key: 'media/big.bin', Range: `bytes=${data.length - 4}-` });
    expect(tail.statusCode).toBe(206);
    expect(tail.Body.equals(data.subarray(data.length - 4))).toBe(true);
  });

  it('serves a range of a small inline object', async () => {
    const { cos, bucket } = fixture;
    await cos.putObject({ Bucket: bucket, Region: TEST_REGION, Key: 'small.txt', Body: 'hello world' });
    const ranged = await cos.getObject({ Bucket: bucket, Region: TEST_REGION, Key: 'small.txt', Range: 'bytes=5-9' });
    expect(ranged.statusCode).toBe(206);
    expect(ranged.headers?.['content-range']).toBe('bytes 5-9/11');
    expect(ranged.Body.toString()).toBe(' worl');
  });
});
