/**
 * The local COS data is readable by its owner only: every folder the store creates is 0700 and
 * every file 0600 whatever the umask, and data left readable by an earlier version is made so at start.
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import COS from 'cos-nodejs-sdk-v5';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomCredential } from '../../local/credentials';
import { BucketJournal, JOURNAL_FILE } from '../../local/cos/journal';
import { makePrivateDir } from '../../local/cos/private-files';
import { CosServer } from '../../local/cos/server';

const BUCKET = 'private-test-1250000000';
const REGION = 'ap-guangzhou';

/** Every entry under `root` (root included) with its permission bits, as `relative path: mode`. */
async function modes(root: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  const visit = async (path: string) => {
    const info = await lstat(path);
    found[relative(root, path) || '.'] = (info.isSymbolicLink() ? 'link ' : info.isDirectory() ? 'dir ' : 'file ') + (info.mode & 0o7777).toString(8);
    if (info.isDirectory()) for (const name of await readdir(path)) await visit(join(path, name));
  };
  await visit(root);
  return found;
}

/** The entries whose mode is not owner-only. */
function notPrivate(found: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(found).filter(([, mode]) => mode !== 'dir 700' && mode !== 'file 600'));
}

/** 000 catches a file created without an explicit mode; 277 one whose mode is never set after creation. */
const UMASKS = [
  { umask: 0o000, name: '000' },
  { umask: 0o277, name: '277' },
];

let savedUmask: number;
let base: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'local-cos-private-'));
  // with no umask, anything created without an explicit mode comes out 0777 or 0666
  savedUmask = process.umask(0);
});

afterEach(async () => {
  process.umask(savedUmask);
  await rm(base, { recursive: true, force: true });
});

describe('local COS store: private files', () => {
  let server: CosServer | undefined;

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  describe.each(UMASKS)('under umask $name', ({ umask }) => {
    beforeEach(() => {
      process.umask(umask);
    });

    it('creates every folder 0700 and every file 0600: journal, blobs, uploads, tags, bucket settings', async () => {
      const directory = join(base, 'data', 'cos');
      const credential = randomCredential();
      server = new CosServer({ directory, credentials: [credential], buckets: [BUCKET] });
      await server.start();
      const cos = new COS({ SecretId: credential.secretId, SecretKey: credential.secretKey, Domain: server.domain });
      await cos.putObject({ Bucket: BUCKET, Region: REGION, Key: 'rooms/small.json', Body: '{"n":1}' });
      await cos.putObject({ Bucket: BUCKET, Region: REGION, Key: 'rooms/large.bin', Body: randomBytes(200 * 1024) });
      await cos.putObjectTagging({ Bucket: BUCKET, Region: REGION, Key: 'rooms/small.json', Tags: [{ Key: 'room', Value: 'lobby' }] });
      await cos.putBucketCors({ Bucket: BUCKET, Region: REGION, CORSRules: [{ AllowedOrigin: ['*'], AllowedMethod: ['GET'] }] });
      // an upload left unfinished keeps its folder, key, metadata and parts
      const { UploadId } = await cos.multipartInit({ Bucket: BUCKET, Region: REGION, Key: 'big/upload.bin' });
      await cos.multipartUpload({ Bucket: BUCKET, Region: REGION, Key: 'big/upload.bin', UploadId, PartNumber: 1, Body: randomBytes(1024) });

      const found = await modes(join(base, 'data'));
      const names = Object.keys(found).join('\n');
      // the kinds of file checked, so a change of layout cannot make this test check nothing
      for (const part of [
        JOURNAL_FILE,
        '._S3rver_blobs/',
        '._S3rver_subresources/',
        '._S3rver_cors.xml',
        `${UploadId}/key`,
        `${UploadId}/metadata`,
        `${UploadId}/1`,
        `${UploadId}/1.md5`,
      ]) {
        expect(names).toContain(part);
      }
      expect(notPrivate(found)).toEqual({});
    });

    it('rewrites a journal owner-only', async () => {
      const folder = join(base, 'bucket');
      await makePrivateDir(folder);
      const journal = await BucketJournal.open(folder, () => undefined);
      const body = randomBytes(60 * 1024);
      // about 2.4 MB of overwrites of one key: mostly dead, so the journal is rewritten
      for (let i = 0; i < 40; i++) await journal.put({ key: 'k', md5: String(i), size: body.length, mtime: i, metadata: {}, body });
      await journal.close();
      const info = await stat(join(folder, JOURNAL_FILE));
      expect(info.size, 'the journal was not rewritten').toBeLessThan(1024 * 1024);
      expect(info.mode & 0o777).toBe(0o600);
    });
  });

  it('makes an existing data folder private at start, without following symbolic links', async () => {
    const directory = join(base, 'cos');
    const bucketFolder = join(directory, BUCKET);
    await mkdir(join(bucketFolder, '._S3rver_blobs'), { recursive: true, mode: 0o755 });
    for (const folder of [directory, bucketFolder, join(bucketFolder, '._S3rver_blobs')]) await chmod(folder, 0o755);
    await writeFile(join(bucketFolder, JOURNAL_FILE), '', { mode: 0o644 });
    await writeFile(join(bucketFolder, '._S3rver_blobs', 'stray'), 'x', { mode: 0o644 });
    await writeFile(join(bucketFolder, '._S3rver_cors.xml'), '<CORSConfiguration/>', { mode: 0o664 });
    const outside = join(base, 'outside.txt');
    await writeFile(outside, "not the store's", { mode: 0o644 });
    await symlink(outside, join(directory, 'link'));

    server = new CosServer({ directory, credentials: [randomCredential()] });
    await server.start();
    const found = await modes(directory);
    expect(found['link']).toMatch(/^link /);
    delete found['link'];
    expect(notPrivate(found)).toEqual({});
    expect((await stat(outside)).mode & 0o777).toBe(0o644);
  });
});

describe.each(UMASKS)('makePrivateDir under umask $name', ({ umask }) => {
  beforeEach(() => {
    process.umask(umask);
  });

  it('creates missing parents 0700 and leaves existing ones alone', async () => {
    await chmod(base, 0o755);
    await makePrivateDir(join(base, 'a', 'b', 'c'));
    expect(await modes(base)).toEqual({ '.': 'dir 755', a: 'dir 700', 'a/b': 'dir 700', 'a/b/c': 'dir 700' });
  });

  it('makes an existing folder 0700', async () => {
    await mkdir(join(base, 'open'), { mode: 0o777 });
    await chmod(join(base, 'open'), 0o777);
    await makePrivateDir(join(base, 'open'));
    expect((await stat(join(base, 'open'))).mode & 0o777).toBe(0o700);
  });
});
