/**
 * Unit tests of the local COS journal: one append-only file per bucket, replayed on open.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BLOB_FOLDER, BucketJournal, JOURNAL_FILE, type StoredObject, compareKeys } from '../../local/cos/journal';

function md5(body: Buffer): string {
  return createHash('md5').update(body).digest('hex');
}

function inline(key: string, body: Buffer | string, metadata: Record<string, string> = {}, mtime = Date.now()): StoredObject {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return { key, md5: md5(bytes), size: bytes.length, mtime, metadata, body: bytes };
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Rejects after `ms`, so a write that never settles fails the test quickly instead of hanging it. */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves to the rejection of `promise`, failing the test if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: string; message?: string };
  }
  throw new Error('expected the promise to reject');
}

describe('compareKeys', () => {
  it('agrees with the UTF-8 byte order of Buffer.compare on tricky pairs', () => {
    const pairs: Array<[string, string]> = [
      ['a', 'b'],
      ['a', 'a'],
      ['a', 'aa'],
      ['', 'a'],
      ['Z', 'a'],
      ['a/b', 'a-b'],
      ['a/b', 'a.b'],
      ['\u007f', '\u0080'],
      ['\u07ff', '\u0800'],
      ['\ud7ff', '\ue000'],
      ['\ue000', '😀'],
      ['\uffff', '😀'],
      ['\ufffd', '😀'],
      ['\ufffd', '\uffff'],
      ['😀', '😁'],
      ['😀', '\u{10ffff}'],
      ['\u{10000}', '\uffff'],
      ['x😀', 'x\ufffd'],
      ['x😀', 'x😀a'],
      ['😀a', '😀\ufffd'],
      ['😀', '😀'],
      ['\u{1f600}\u{1f601}', '\u{1f600}\ue000'],
      ['é', 'z'],
      ['中文', '中'],
      ['\u3000', '\ufb01'],
    ];
    for (const [a, b] of pairs) {
      const expected = Math.sign(byteOrder(a, b));
      expect(Math.sign(compareKeys(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(expected);
      expect(Math.sign(compareKeys(b, a)), `${JSON.stringify(b)} vs ${JSON.stringify(a)}`).toBe(expected === 0 ? 0 : -expected);
    }
  });

  it('sorts a mixed list the way Buffer.compare does, unlike the default string sort', () => {
    const keys = ['😀', '\ufffd', 'a', '\ue000', 'z', '\u{10000}', 'é', 'A', '\uffff', 'rooms/😀', 'rooms/\ufffd', 'rooms/'];
    const expected = [...keys].sort(byteOrder);
    expect([...keys].sort(compareKeys)).toEqual(expected);
    // the UTF-16 order differs, so the comparison above is not trivially satisfied
    expect([...keys].sort()).not.toEqual(expected);
  });
});

describe('BucketJournal', () => {
  let root: string;
  let folder: string;
  let warnings: string[];
  const warn = (message: string) => warnings.push(message);

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cos-journal-'));
    folder = join(root, 'examplebucket-1250000000');
    await mkdir(folder);
    warnings = [];
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('puts, gets and deletes objects, and lists keys in UTF-8 byte order', async () => {
    const journal = await BucketJournal.open(folder, warn);
    try {
      expect(journal.size).toBe(0);
      expect(journal.sortedKeys()).toEqual([]);
      const keys = ['😀', 'b', '\ufffd', 'a', '\ue000', 'rooms/😀', 'rooms/\ufffd', 'rooms/a', 'Z', '\u{10000}', 'é'];
      await Promise.all(keys.map((key) => journal.put(inline(key, `body of ${key}`, { 'content-type': 'text/plain' }))));

      expect(journal.size).toBe(keys.length);
      expect(journal.sortedKeys()).toEqual([...keys].sort(byteOrder));
      const got = journal.get('😀');
      expect(got?.body?.toString()).toBe('body of 😀');
      expect(got?.md5).toBe(md5(Buffer.from('body of 😀')));
      expect(got?.size).toBe(Buffer.byteLength('body of 😀'));
      expect(got?.metadata).toEqual({ 'content-type': 'text/plain' });
      expect(journal.get('missing')).toBeUndefined();

      await journal.delete('😀');
      expect(journal.get('😀')).toBeUndefined();
      expect(journal.size).toBe(keys.length - 1);
      expect(journal.sortedKeys()).toEqual(keys.filter((key) => key !== '😀').sort(byteOrder));

      // deleting a missing key succeeds and changes nothing
      await journal.delete('never');
      expect(journal.size).toBe(keys.length - 1);

      // an overwrite replaces the body and keeps the key once
      await journal.put(inline('a', 'second'));
      expect(journal.get('a')?.body?.toString()).toBe('second');
      expect(journal.sortedKeys().filter((key) => key === 'a')).toHaveLength(1);
    } finally {
      await journal.close();
    }
    expect(warnings).toEqual([]);
  });

  it('replays puts, overwrites and deletes after a reopen', async () => {
    const first = await BucketJournal.open(folder, warn);
    const empty = inline('empty', Buffer.alloc(0), {}, 1_000);
    const binary = randomBytes(10_000);
    await first.put(inline('keep', 'v1', { 'content-type': 'text/plain' }, 1_000));
    await first.put(inline('keep', 'v2', { 'content-type': 'application/json', 'x-amz-meta-owner': 'ann' }, 2_000));
    await first.put(inline('gone', 'soon', {}, 1_000));
    await first.put(inline('binary', binary, { 'cache-control': 'no-store' }, 3_000));
    await first.put(empty);
    await first.put({ key: 'large', md5: 'f'.repeat(32), size: 200_000, mtime: 4_000, metadata: {}, blob: 'pretend-blob' });
    await first.delete('gone');
    await first.close();

    const second = await BucketJournal.open(folder, warn);
    try {
      expect(second.sortedKeys()).toEqual(['binary', 'empty', 'keep', 'large']);
      const keep = second.get('keep')!;
      expect(keep.body?.toString()).toBe('v2');
      expect(keep.md5).toBe(md5(Buffer.from('v2')));
      expect(keep.size).toBe(2);
      expect(keep.mtime).toBe(2_000);
      expect(keep.metadata).toEqual({ 'content-type': 'application/json', 'x-amz-meta-owner': 'ann' });
      const bin = second.get('binary')!;
      expect(bin.body?.equals(binary)).toBe(true);
      expect(bin.md5).toBe(md5(binary));
      expect(bin.size).toBe(10_000);
      expect(bin.mtime).toBe(3_000);
      expect(bin.metadata).toEqual({ 'cache-control': 'no-store' });
      const replayedEmpty = second.get('empty')!;
      expect(replayedEmpty.size).toBe(0);
      expect(replayedEmpty.body?.length).toBe(0);
      expect(replayedEmpty.md5).toBe(empty.md5);
      const large = second.get('large')!;
      expect(large.blob).toBe('pretend-blob');
      expect(large.body).toBeUndefined();
      expect(large.size).toBe(200_000);
      expect(second.get('gone')).toBeUndefined();
    } finally {
      await second.close();
    }
    expect(warnings).toEqual([]);
  });

  it.each([
    ['garbage bytes', () => Buffer.alloc(37, 0xff)],
    ['a frame prefix promising more bytes than follow', () => Buffer.concat([Buffer.from([0, 0, 0, 50, 0, 0, 0, 0]), Buffer.from('{"op":"put","key":')])],
    ['a frame with an unreadable header', () => Buffer.concat([Buffer.from([0, 0, 0, 5, 0, 0, 0, 0]), Buffer.from('{{{{{')])],
    ['a few bytes of a frame prefix', () => Buffer.from([0, 0, 1])],
  ])('drops a torn tail (%s), warns, cuts the file back and keeps working', async (_name, garbage) => {
    const path = join(folder, JOURNAL_FILE);
    const first = await BucketJournal.open(folder, warn);
    await first.put(inline('a', 'alpha'));
    await first.put(inline('b', 'beta'));
    await first.close();
    const validBytes = (await stat(path)).size;
    expect(validBytes).toBeGreaterThan(0);
    const tail = garbage();
    await appendFile(path, tail);
    expect((await stat(path)).size).toBe(validBytes + tail.length);

    const second = await BucketJournal.open(folder, warn);
    expect(second.sortedKeys()).toEqual(['a', 'b']);
    expect(second.get('a')?.body?.toString()).toBe('alpha');
    expect(second.get('b')?.body?.toString()).toBe('beta');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(path);
    expect(warnings[0]).toContain(`${tail.length} bytes`);
    expect((await stat(path)).size).toBe(validBytes);
    await second.put(inline('c', 'gamma'));
    await second.close();

    const third = await BucketJournal.open(folder, warn);
    try {
      expect(third.sortedKeys()).toEqual(['a', 'b', 'c']);
      expect(third.get('c')?.body?.toString()).toBe('gamma');
      expect(warnings).toHaveLength(1);
    } finally {
      await third.close();
    }
  });

  it('drops a record cut short in its body', async () => {
    const path = join(folder, JOURNAL_FILE);
    const first = await BucketJournal.open(folder, warn);
    await first.put(inline('a', 'alpha'));
    await first.close();
    const validBytes = (await stat(path)).size;
    // a whole second record, then cut in the middle of its body
    const body = Buffer.from('x'.repeat(100));
    const header = Buffer.from(JSON.stringify({ op: 'put', key: 'b', md5: md5(body), size: body.length, mtime: 1, metadata: {} }));
    const prefix = Buffer.alloc(8);
    prefix.writeUInt32BE(header.length, 0);
    prefix.writeUInt32BE(body.length, 4);
    await appendFile(path, Buffer.concat([prefix, header, body.subarray(0, 40)]));

    const second = await BucketJournal.open(folder, warn);
    try {
      expect(second.sortedKeys()).toEqual(['a']);
      expect(warnings).toHaveLength(1);
      expect((await stat(path)).size).toBe(validBytes);
    } finally {
      await second.close();
    }
  });

  it('rejects opening a missing folder with ERR_NO_BUCKET_FOLDER', async () => {
    const err = await rejection(BucketJournal.open(join(root, 'no-such-bucket-1250000000'), warn));
    expect(err.code).toBe('ERR_NO_BUCKET_FOLDER');
  });

  it('resolves 500 puts issued in the same tick, and all of them survive a reopen', async () => {
    const first = await BucketJournal.open(folder, warn);
    const keys = Array.from({ length: 500 }, (_, i) => `conn/${String(i).padStart(4, '0')}`);
    const results = await Promise.allSettled(keys.map((key) => first.put(inline(key, `v-${key}`))));
    expect(results.filter((result) => result.status !== 'fulfilled')).toEqual([]);
    expect(first.size).toBe(500);
    await first.close();

    const second = await BucketJournal.open(folder, warn);
    try {
      expect(second.sortedKeys()).toEqual(keys);
      for (const key of keys) expect(second.get(key)?.body?.toString()).toBe(`v-${key}`);
    } finally {
      await second.close();
    }
  });

  it('rewrites the journal once most of it is dead, keeping the latest values', async () => {
    const path = join(folder, JOURNAL_FILE);
    const first = await BucketJournal.open(folder, warn);
    const keys = ['k0', 'k1', 'k2', 'k3'];
    let written = 0;
    const latest = new Map<string, Buffer>();
    // 4 keys x 200 rounds x ~2 KB = ~1.6 MB written, of which ~8 KB stay live
    for (let round = 0; round < 200; round++) {
      await Promise.all(
        keys.map((key) => {
          const body = Buffer.concat([Buffer.from(`${key}:${round}:`), randomBytes(2000)]);
          latest.set(key, body);
          written += body.length;
          return first.put(inline(key, body, { 'x-amz-meta-round': String(round) }));
        }),
      );
    }
    const size = (await stat(path)).size;
    expect(written).toBeGreaterThan(1024 * 1024 * 1.5);
    // without a rewrite the file would hold every byte written plus the headers
    expect(size).toBeLessThan(written / 2);
    // no temporary file of the rewrite is left behind
    expect((await readdir(folder)).filter((name) => name !== JOURNAL_FILE)).toEqual([]);
    for (const key of keys) expect(first.get(key)?.body?.equals(latest.get(key)!)).toBe(true);
    await first.close();

    const second = await BucketJournal.open(folder, warn);
    try {
      expect(second.sortedKeys()).toEqual(keys);
      for (const key of keys) {
        const object = second.get(key)!;
        expect(object.body?.equals(latest.get(key)!)).toBe(true);
        expect(object.md5).toBe(md5(latest.get(key)!));
        expect(object.metadata).toEqual({ 'x-amz-meta-round': '199' });
      }
    } finally {
      await second.close();
    }
    expect(warnings).toEqual([]);
  });

  it('keeps writes queued during a rewrite', async () => {
    const first = await BucketJournal.open(folder, warn);
    const big = () => randomBytes(30_000);
    // ~1.2 MB of overwrites of one key, then, without waiting, fresh keys and a delete
    const overwrites: Array<Promise<void>> = [];
    for (let i = 0; i < 40; i++) {
      overwrites.push(first.put(inline('hot', big())));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await first.put(inline('victim', 'x'));
    const last = big();
    const tail = [first.put(inline('hot', last)), first.put(inline('fresh', 'new')), first.delete('victim')];
    await Promise.all([...overwrites, ...tail]);
    await first.close();

    const second = await BucketJournal.open(folder, warn);
    try {
      expect(second.sortedKeys()).toEqual(['fresh', 'hot']);
      expect(second.get('hot')?.body?.equals(last)).toBe(true);
      expect(second.get('fresh')?.body?.toString()).toBe('new');
      expect((await stat(join(folder, JOURNAL_FILE))).size).toBeLessThan(40 * 30_000);
    } finally {
      await second.close();
    }
  });

  // a write queued by a caller resumed between the flush's last look at the queue and the flush's
  // end must start a flush of its own, or it is never written and never settles
  it('settles a put awaited directly right after another', async () => {
    const journal = await BucketJournal.open(folder, warn);
    try {
      // each write is issued in the very continuation of the previous `await journal.put()`
      await journal.put(inline('a', 'one'));
      const second = journal.put(inline('a', 'two'));
      await within(2_000, second, 'the second put');
      await journal.put(inline('a', 'three'));
      const deleted = journal.delete('a');
      await within(2_000, deleted, 'the delete');
    } finally {
      await journal.close();
    }
    const reopened = await BucketJournal.open(folder, warn);
    try {
      expect(reopened.sortedKeys()).toEqual([]);
    } finally {
      await reopened.close();
    }
  });

  it('fails a write the disk refuses with ERR_JOURNAL_WRITE and undoes it in the index', async () => {
    const journal = await BucketJournal.open(folder, warn);
    // a full disk cannot be provoked here: the file handle's write fails once instead
    const probe = await open(join(root, 'probe'), 'w');
    const handlePrototype = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<unknown> };
    await probe.close();
    try {
      await journal.put(inline('kept', 'first'));
      await journal.put(inline('gone', 'x'));
      const spy = vi.spyOn(handlePrototype, 'write').mockRejectedValueOnce(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
      const failures = await Promise.all([
        rejection(journal.put(inline('kept', 'second'))),
        rejection(journal.put(inline('new', 'never'))),
        rejection(journal.delete('gone')),
      ]);
      spy.mockRestore();
      for (const failure of failures) {
        expect(failure.code).toBe('ERR_JOURNAL_WRITE');
        expect(failure.message).toContain('no space left on device');
      }
      // what is read is what was acknowledged
      expect(journal.get('kept')?.body?.toString()).toBe('first');
      expect(journal.get('new')).toBeUndefined();
      expect(journal.get('gone')?.body?.toString()).toBe('x');
      expect(journal.sortedKeys()).toEqual(['gone', 'kept']);
      // and the journal still works
      await journal.put(inline('kept', 'third'));
    } finally {
      await journal.close();
    }
    const reopened = await BucketJournal.open(folder, warn);
    try {
      expect(reopened.sortedKeys()).toEqual(['gone', 'kept']);
      expect(reopened.get('kept')?.body?.toString()).toBe('third');
    } finally {
      await reopened.close();
    }
  });

  it('rejects put and delete after close with ERR_JOURNAL_CLOSED', async () => {
    const journal = await BucketJournal.open(folder, warn);
    await journal.put(inline('a', 'alpha'));
    await journal.close();
    await journal.close(); // a second close is harmless
    expect((await rejection(journal.put(inline('b', 'beta')))).code).toBe('ERR_JOURNAL_CLOSED');
    expect((await rejection(journal.delete('a'))).code).toBe('ERR_JOURNAL_CLOSED');
    // a refused write leaves the index as it was
    expect(journal.get('b')).toBeUndefined();
    expect(journal.get('a')?.body?.toString()).toBe('alpha');

    const reopened = await BucketJournal.open(folder, warn);
    try {
      expect(reopened.sortedKeys()).toEqual(['a']);
    } finally {
      await reopened.close();
    }
  });

  it('writes what is queued before close resolves', async () => {
    const journal = await BucketJournal.open(folder, warn);
    const puts = [journal.put(inline('a', 'alpha')), journal.put(inline('b', 'beta'))];
    await journal.close();
    await Promise.all(puts);
    const reopened = await BucketJournal.open(folder, warn);
    try {
      expect(reopened.sortedKeys()).toEqual(['a', 'b']);
    } finally {
      await reopened.close();
    }
  });

  it('hands out blob paths, and removes unreferenced blobs on open while keeping referenced ones', async () => {
    const journal = await BucketJournal.open(folder, warn);
    const kept = await journal.newBlob();
    const orphan = await journal.newBlob();
    expect(kept.name).not.toBe(orphan.name);
    expect(kept.path).toBe(join(folder, BLOB_FOLDER, kept.name));
    expect(journal.blobPath(kept.name)).toBe(kept.path);
    const body = randomBytes(100_000);
    await writeFile(kept.path, body);
    await writeFile(orphan.path, 'left by a crashed upload');
    await journal.put({ key: 'big', md5: md5(body), size: body.length, mtime: Date.now(), metadata: {}, blob: kept.name });
    await journal.close();
    expect((await readdir(join(folder, BLOB_FOLDER))).sort()).toEqual([kept.name, orphan.name].sort());

    const reopened = await BucketJournal.open(folder, warn);
    try {
      expect(await readdir(join(folder, BLOB_FOLDER))).toEqual([kept.name]);
      expect(reopened.get('big')?.blob).toBe(kept.name);
    } finally {
      await reopened.close();
    }
  });

  it('removes the replaced blob once an overwrite or delete is written', async () => {
    const journal = await BucketJournal.open(folder, warn);
    try {
      const first = await journal.newBlob();
      await writeFile(first.path, 'one');
      await journal.put({ key: 'big', md5: md5(Buffer.from('one')), size: 3, mtime: 1, metadata: {}, blob: first.name });
      const second = await journal.newBlob();
      await writeFile(second.path, 'two');
      await journal.put({ key: 'big', md5: md5(Buffer.from('two')), size: 3, mtime: 2, metadata: {}, blob: second.name });
      // the old blob goes right after its replacement's record is written (the put may resolve first)
      await vi.waitFor(async () => expect(await readdir(join(folder, BLOB_FOLDER))).toEqual([second.name]), { timeout: 2_000 });
      await journal.delete('big');
      await vi.waitFor(async () => expect(await readdir(join(folder, BLOB_FOLDER))).toEqual([]), { timeout: 2_000 });
    } finally {
      await journal.close();
    }
  });
});
