/**
 * The local COS store: s3rver's filesystem store for buckets, their settings and multipart
 * uploads, with objects kept in one journal per bucket ({@link BucketJournal}) instead of three
 * files per object. s3rver serves GET and HEAD (ranges, conditional requests) and multipart
 * uploads through the overridden methods; the local COS server writes, deletes and lists directly.
 */
import { createHash } from 'node:crypto';
import { type Dirent, createReadStream } from 'node:fs';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import FilesystemStore from 's3rver/lib/stores/filesystem.js';
import S3Object from 's3rver/lib/models/object.js';
import { CodedError } from '../coded-error';
import { BucketJournal, INLINE_BODY_BYTES, JOURNAL_FILE, type StoredObject, firstAtOrAfter } from './journal';
import { STORE_RESERVED_MARKER } from './paths';
import { createPrivateWriteStream, makePrivateDir, writePrivateFile } from './private-files';

export { compareKeys } from './journal';

/** What a listing shows about one object. */
export interface ObjectInfo {
  key: string;
  lastModified: Date;
  /** The MD5 hex digest in double quotes, as COS returns ETags. */
  etag: string;
  size: number;
}

/** The request headers an object keeps and returns (s3rver's list), plus every x-amz-meta-*. */
const STORED_HEADERS = new Set([
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-type',
  'expires',
  'x-amz-storage-class',
  'x-amz-website-redirect-location',
]);
/** Files of the per-object layout earlier versions (and s3rver) used; imported on first open. */
const LEGACY_OBJECT_SUFFIX = `${STORE_RESERVED_MARKER}object`;
const LEGACY_TAGGING_SUFFIX = `${STORE_RESERVED_MARKER}tagging.xml`;
/**
 * The folder, in a bucket's folder, of objects' sub-resources (s3rver keeps an object's tags as
 * a file). They are named by a hash of the key, so a key of any length and shape fits in a file
 * name (at most 255 bytes), where s3rver's `<key>._S3rver_tagging.xml` limited key segments to 233 bytes.
 */
export const SUBRESOURCE_FOLDER = `${STORE_RESERVED_MARKER}subresources`;
/** The object sub-resources s3rver stores; the others (acl) it answers without storing. */
const OBJECT_SUBRESOURCES = ['tagging'];

export class ObjectStore extends FilesystemStore {
  readonly #journals = new Map<string, Promise<BucketJournal>>();
  readonly #warn: (message: string) => void;
  /** Buckets whose {@link SUBRESOURCE_FOLDER} may hold files, so deletes look there; others cost no file system call. */
  readonly #withSubresources = new Set<string>();

  constructor(directory: string, warn: (message: string) => void = console.warn) {
    super(directory);
    this.#warn = warn;
  }

  /** Whether the bucket exists. */
  async bucketExists(bucket: string): Promise<boolean> {
    return (await this.getBucket(bucket)) !== null;
  }

  /** Creates the bucket's folder if missing. */
  async createBucket(bucket: string): Promise<void> {
    await this.putBucket(bucket);
  }

  /** Creates the bucket's folder owner-only, or makes an existing one so. */
  override async putBucket(bucket: string): Promise<{ name: string; creationDate: Date } | null> {
    await makePrivateDir(this.getBucketPath(bucket));
    return this.getBucket(bucket);
  }

  /** The bucket's keys after `marker` in COS order (by UTF-8 bytes). */
  async keysAfter(bucket: string, marker: string, prefix = ''): Promise<Iterable<string>> {
    const keys = (await this.#journal(bucket)).sortedKeys();
    // Straight to the prefix's range, or past the marker, whichever is later: the keys before
    // either are never read, so a listing costs what it returns, not the bucket's size.
    let start = firstAtOrAfter(keys, prefix);
    if (marker !== '') {
      const afterMarker = firstAtOrAfter(keys, marker);
      start = Math.max(start, keys[afterMarker] === marker ? afterMarker + 1 : afterMarker);
    }
    return (function* () {
      for (let i = start; i < keys.length; i++) yield keys[i]!;
    })();
  }

  /** Size, ETag and modification time of the given keys; keys deleted meanwhile are left out. */
  async objectInfos(bucket: string, keys: readonly string[]): Promise<ObjectInfo[]> {
    const journal = await this.#journal(bucket);
    const infos: ObjectInfo[] = [];
    for (const key of keys) {
      const object = journal.get(key);
      if (object) infos.push({ key, lastModified: new Date(object.mtime), etag: JSON.stringify(object.md5), size: object.size });
    }
    return infos;
  }

  /**
   * Writes an object and resolves once it is on disk.
   * @param content the whole body, or a stream for bodies too large to hold in memory
   * @param headers the request's headers; the stored ones (content-type, x-amz-meta-*...) are kept
   */
  async writeObject(bucket: string, key: string, content: Buffer | Readable, headers: Record<string, unknown>): Promise<{ md5: string; size: number }> {
    return this.#write(await this.#journal(bucket), key, content, headers);
  }

  async #write(journal: BucketJournal, key: string, content: Buffer | Readable, headers: Record<string, unknown>): Promise<{ md5: string; size: number }> {
    const metadata = storedHeaders(headers);
    if (Buffer.isBuffer(content) && content.length <= INLINE_BODY_BYTES) {
      const md5 = createHash('md5').update(content).digest('hex');
      await journal.put({ key, md5, size: content.length, mtime: Date.now(), metadata, body: content });
      return { md5, size: content.length };
    }
    // a large body goes to a file of its own; a broken upload removes it and leaves the previous version
    const blob = await journal.newBlob();
    let written: { md5: string; size: number };
    try {
      written = await writeHashed(Buffer.isBuffer(content) ? Readable.from([content]) : content, blob.path);
    } catch (err) {
      await rm(blob.path, { force: true });
      throw err;
    }
    await journal.put({ key, ...written, mtime: Date.now(), metadata, blob: blob.name });
    return written;
  }

  /** Deletes an object and its sub-resources; deleting a missing key succeeds, as on COS. */
  override async deleteObject(bucket: string, key: string): Promise<void> {
    await (await this.#journal(bucket)).delete(key);
    if (this.#withSubresources.has(bucket)) {
      for (const type of OBJECT_SUBRESOURCES) await rm(this.getResourcePath(bucket, key, `${type}.xml`), { force: true });
    }
  }

  /** Writes what is queued and closes every journal. */
  async close(): Promise<void> {
    const journals = [...this.#journals.values()];
    this.#journals.clear();
    await Promise.all(journals.map(async (journal) => (await journal.catch(() => undefined))?.close()));
  }

  // s3rver's store interface, for the requests s3rver answers

  /** @throws an ENOENT error when the object does not exist, as s3rver expects. */
  override async getMetadata(bucket: string, key: string): Promise<S3rverMetadata> {
    const object = (await this.#journal(bucket)).get(key);
    if (!object) throw new CodedError('ENOENT', `no object ${key} in ${bucket}`);
    return metadataOf(object);
  }

  override async existsObject(bucket: string, key: string): Promise<boolean> {
    return (await this.#journal(bucket)).get(key) !== undefined;
  }

  /** Mirrors s3rver's own getObject, ranges included, over the journal. */
  override async getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<S3Object | null> {
    const journal = await this.#journal(bucket);
    const object = journal.get(key);
    if (!object) return null;
    const lastByte = Math.max(0, object.size - 1);
    const ranged = options !== undefined && (options.start !== undefined || options.end !== undefined);
    const range = { start: options?.start ?? 0, end: Math.min(options?.end ?? Infinity, lastByte) };
    let content: Readable | null = null;
    if (!(range.start < 0 || range.end < range.start)) {
      content = object.blob ? createReadStream(journal.blobPath(object.blob), range) : Readable.from([object.body!.subarray(range.start, range.end + 1)]);
    }
    const result = new S3Object(bucket, key, content, metadataOf(object));
    if (ranged) result.range = range;
    return result;
  }

  override async putObject(object: S3Object): Promise<{ md5: string; size: number }> {
    return this.writeObject(object.bucket, object.key, object.content as Buffer | Readable, object.metadata);
  }

  /** Object copy is refused before it reaches s3rver; this keeps it from touching the old layout. */
  override async copyObject(): Promise<never> {
    throw new Error('This local COS store does not implement object copy.');
  }

  /** Enough of a listing for s3rver's "is the bucket empty" check before deleting it. */
  override async listObjects(
    bucket: string,
    options: { maxKeys?: number } = {},
  ): Promise<{ objects: S3Object[]; commonPrefixes: string[]; isTruncated: boolean }> {
    const journal = await this.#journal(bucket);
    const keys = journal.sortedKeys();
    const count = Math.min(keys.length, options.maxKeys ?? 1000);
    const objects = keys.slice(0, count).map((key) => new S3Object(bucket, key, null, metadataOf(journal.get(key)!)));
    return { objects, commonPrefixes: [], isTruncated: count < keys.length };
  }

  override async deleteBucket(bucket: string): Promise<void> {
    const journal = this.#journals.get(bucket);
    this.#journals.delete(bucket);
    this.#withSubresources.delete(bucket);
    await (await journal?.catch(() => undefined))?.close();
    await super.deleteBucket(bucket);
  }

  /**
   * Where s3rver keeps a resource: a bucket's own (cors, website, uploads) as s3rver does, an
   * object's in {@link SUBRESOURCE_FOLDER} under a hash of its key.
   */
  override getResourcePath(bucket: string, key = '', resource: string): string {
    if (key === '') return super.getResourcePath(bucket, key, resource);
    return join(this.getBucketPath(bucket), SUBRESOURCE_FOLDER, `${createHash('sha256').update(key).digest('hex')}.${resource}`);
  }

  /** s3rver's putSubresource, with the file and its folder owner-only. */
  override async putSubresource(bucket: string, key: string | undefined, resource: { type: string; toXML(indent?: number): string }): Promise<void> {
    const path = this.getResourcePath(bucket, key, `${resource.type}.xml`);
    if (key) {
      await makePrivateDir(dirname(path));
      this.#withSubresources.add(bucket);
    }
    await writePrivateFile(path, resource.toXML(2));
  }

  /** s3rver's initiateUpload, with the upload's folder and files owner-only. */
  override async initiateUpload(bucket: string, key: string, uploadId: string, metadata: Record<string, unknown>): Promise<void> {
    const folder = this.#uploadFolder(bucket, uploadId);
    await makePrivateDir(folder);
    await writePrivateFile(join(folder, 'key'), key);
    await writePrivateFile(join(folder, 'metadata'), JSON.stringify(metadata));
  }

  /** s3rver's putPart, with the part's files owner-only; resolves once the part is on disk. */
  override async putPart(bucket: string, uploadId: string, partNumber: number, content: Readable): Promise<{ md5: string; size: number }> {
    const path = join(this.#uploadFolder(bucket, uploadId), String(partNumber));
    await makePrivateDir(dirname(path));
    const written = await writeHashed(content, path);
    await writePrivateFile(`${path}.md5`, written.md5);
    return written;
  }

  #uploadFolder(bucket: string, uploadId: string): string {
    return join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  }

  #journal(bucket: string): Promise<BucketJournal> {
    let journal = this.#journals.get(bucket);
    if (!journal) {
      journal = this.#openJournal(bucket);
      // a failed open is retried by the next request rather than remembered
      journal.catch(() => this.#journals.delete(bucket));
      this.#journals.set(bucket, journal);
    }
    return journal;
  }

  async #openJournal(bucket: string): Promise<BucketJournal> {
    const folder = this.getBucketPath(bucket);
    const journal = await BucketJournal.open(folder, this.#warn);
    if (
      await stat(join(folder, SUBRESOURCE_FOLDER)).then(
        () => true,
        () => false,
      )
    )
      this.#withSubresources.add(bucket);
    const imported = await this.#importLegacyObjects(bucket, folder, '', journal);
    if (imported > 0) this.#warn(`local COS: moved ${imported} objects of ${bucket} into ${join(folder, JOURNAL_FILE)}.`);
    return journal;
  }

  /** Moves objects kept in the per-object file layout into the journal, then removes their files. */
  async #importLegacyObjects(bucket: string, directory: string, keyPrefix: string, journal: BucketJournal): Promise<number> {
    let entries: Dirent[];
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch {
      return 0;
    }
    let imported = 0;
    for (const entry of entries) {
      if (entry.isDirectory() && !entry.name.includes(STORE_RESERVED_MARKER)) {
        const folderKey = keyPrefix + FilesystemStore.decodeKeyPath(entry.name) + '/';
        imported += await this.#importLegacyObjects(bucket, join(directory, entry.name), folderKey, journal);
      } else if (entry.isFile() && entry.name.endsWith(LEGACY_OBJECT_SUFFIX)) {
        const key = keyPrefix + FilesystemStore.decodeKeyPath(entry.name.slice(0, -LEGACY_OBJECT_SUFFIX.length));
        const objectPath = join(directory, entry.name);
        const metadataPath = objectPath.slice(0, -'object'.length) + 'metadata.json';
        const metadata = await readFile(metadataPath, 'utf8').then(JSON.parse, () => ({}));
        // written to the journal being opened: going through #journal(bucket) would wait for this very open
        await this.#write(journal, key, await readFile(objectPath), metadata);
        for (const path of [objectPath, `${objectPath}.md5`, metadataPath]) await rm(path, { force: true });
        imported++;
      } else if (entry.isFile() && entry.name.length > LEGACY_TAGGING_SUFFIX.length && entry.name.endsWith(LEGACY_TAGGING_SUFFIX)) {
        // an object's tags, kept beside it in the old layout, move to their place by hash
        const key = keyPrefix + FilesystemStore.decodeKeyPath(entry.name.slice(0, -LEGACY_TAGGING_SUFFIX.length));
        const target = this.getResourcePath(bucket, key, 'tagging.xml');
        await makePrivateDir(dirname(target));
        this.#withSubresources.add(bucket);
        await rename(join(directory, entry.name), target);
      }
    }
    return imported;
  }
}

/** Writes a stream to a new owner-only file, with its MD5 and size. */
async function writeHashed(content: Readable, path: string): Promise<{ md5: string; size: number }> {
  const hash = createHash('md5');
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(content, count, await createPrivateWriteStream(path));
  return { md5: hash.digest('hex'), size };
}

/** The metadata s3rver's controllers read: stored headers plus ETag, Last-Modified and length. */
type S3rverMetadata = Record<string, string | number> & { etag: string; 'last-modified': string; 'content-length': number };

function metadataOf(object: StoredObject): S3rverMetadata {
  return {
    ...object.metadata,
    etag: JSON.stringify(object.md5),
    'last-modified': new Date(object.mtime).toUTCString(),
    'content-length': object.size,
  };
}

function storedHeaders(headers: Record<string, unknown>): Record<string, string> {
  const stored: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (STORED_HEADERS.has(name) || name.startsWith('x-amz-meta-')) stored[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return stored;
}
