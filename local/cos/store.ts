/**
 * The local COS store: s3rver's filesystem store for buckets, their settings and multipart
 * uploads, with objects kept in one journal per bucket ({@link BucketJournal}) instead of three
 * files per object. s3rver serves GET and HEAD (ranges, conditional requests) and multipart
 * uploads through the overridden methods; the local COS server writes, deletes and lists directly.
 */
import { createHash } from 'node:crypto';
import { type Dirent, createReadStream, createWriteStream } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import FilesystemStore from 's3rver/lib/stores/filesystem.js';
import S3Object from 's3rver/lib/models/object.js';
import { BucketJournal, INLINE_BODY_BYTES, JOURNAL_FILE, type StoredObject, compareKeys } from './journal.js';
import { STORE_RESERVED_MARKER } from './paths.js';

export { compareKeys } from './journal.js';

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

export class ObjectStore extends FilesystemStore {
  readonly #journals = new Map<string, Promise<BucketJournal>>();
  readonly #warn: (message: string) => void;

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

  /** The bucket's keys after `marker` in COS order (by UTF-8 bytes). */
  async keysAfter(bucket: string, marker: string): Promise<readonly string[]> {
    const keys = (await this.#journal(bucket)).sortedKeys();
    let low = 0;
    let high = keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareKeys(keys[middle]!, marker) <= 0) low = middle + 1;
      else high = middle;
    }
    return low === 0 ? keys : keys.slice(low);
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
    const hash = createHash('md5');
    let size = 0;
    try {
      await pipeline(
        Buffer.isBuffer(content) ? Readable.from([content]) : content,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(blob.path),
      );
    } catch (err) {
      await rm(blob.path, { force: true });
      throw err;
    }
    const md5 = hash.digest('hex');
    await journal.put({ key, md5, size, mtime: Date.now(), metadata, blob: blob.name });
    return { md5, size };
  }

  /** Deletes an object; deleting a missing key succeeds, as on COS. */
  override async deleteObject(bucket: string, key: string): Promise<void> {
    await (await this.#journal(bucket)).delete(key);
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
    if (!object) throw Object.assign(new Error(`no object ${key} in ${bucket}`), { code: 'ENOENT' });
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
      content = object.blob
        ? createReadStream(journal.blobPath(object.blob), range)
        : Readable.from([object.body!.subarray(range.start, range.end + 1)]);
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
  override async listObjects(bucket: string, options: { maxKeys?: number } = {}): Promise<{ objects: S3Object[]; commonPrefixes: string[]; isTruncated: boolean }> {
    const journal = await this.#journal(bucket);
    const keys = journal.sortedKeys();
    const count = Math.min(keys.length, options.maxKeys ?? 1000);
    const objects = keys.slice(0, count).map((key) => new S3Object(bucket, key, null, metadataOf(journal.get(key)!)));
    return { objects, commonPrefixes: [], isTruncated: count < keys.length };
  }

  override async deleteBucket(bucket: string): Promise<void> {
    const journal = this.#journals.get(bucket);
    this.#journals.delete(bucket);
    await (await journal?.catch(() => undefined))?.close();
    await super.deleteBucket(bucket);
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
    const imported = await this.#importLegacyObjects(folder, '', journal);
    if (imported > 0) this.#warn(`local COS: moved ${imported} objects of ${bucket} into ${join(folder, JOURNAL_FILE)}.`);
    return journal;
  }

  /** Moves objects kept in the per-object file layout into the journal, then removes their files. */
  async #importLegacyObjects(directory: string, keyPrefix: string, journal: BucketJournal): Promise<number> {
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
        imported += await this.#importLegacyObjects(join(directory, entry.name), folderKey, journal);
      } else if (entry.isFile() && entry.name.endsWith(LEGACY_OBJECT_SUFFIX)) {
        const key = keyPrefix + FilesystemStore.decodeKeyPath(entry.name.slice(0, -LEGACY_OBJECT_SUFFIX.length));
        const objectPath = join(directory, entry.name);
        const metadataPath = objectPath.slice(0, -'object'.length) + 'metadata.json';
        const metadata = await readFile(metadataPath, 'utf8').then(JSON.parse, () => ({}));
        // written to the journal being opened: going through #journal(bucket) would wait for this very open
        await this.#write(journal, key, await readFile(objectPath), metadata);
        for (const path of [objectPath, `${objectPath}.md5`, metadataPath]) await rm(path, { force: true });
        imported++;
      }
    }
    return imported;
  }
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
