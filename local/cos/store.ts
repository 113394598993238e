/**
 * Direct access to the objects s3rver keeps on disk, for the operations the local COS
 * server answers itself (listings and multi-object delete).
 */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type S3rver from 's3rver';
import FilesystemStore from 's3rver/lib/stores/filesystem.js';
import { STORE_RESERVED_MARKER } from './paths.js';

/** s3rver stores an object's bytes in `<last key segment>._S3rver_object`. */
const OBJECT_FILE_SUFFIX = `${STORE_RESERVED_MARKER}object`;

/** What a listing shows about one object. */
export interface ObjectInfo {
  key: string;
  lastModified: Date;
  /** The MD5 hex digest in double quotes, as COS returns ETags. */
  etag: string;
  size: number;
}

/** Orders keys as COS does: by their UTF-8 bytes. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Parallel file reads per listing page; bounded so a 1000-key page does not exhaust file handles. */
const METADATA_READ_CONCURRENCY = 32;

export class ObjectStore {
  readonly #store: S3rver.FilesystemStore;
  /**
   * Listing facts by bucket and key. Every write reaches the disk through the server, which calls
   * forget(), so the cache stays exact; without it a 1000-key page reads 1000 metadata files.
   */
  readonly #infos = new Map<string, ObjectInfo>();

  constructor(store: S3rver.FilesystemStore) {
    this.#store = store;
  }

  /** Whether the bucket exists. */
  async bucketExists(bucket: string): Promise<boolean> {
    return (await this.#store.getBucket(bucket)) !== null;
  }

  /** Creates the bucket's folder if missing. */
  async createBucket(bucket: string): Promise<void> {
    await this.#store.putBucket(bucket);
  }

  /**
   * Yields the bucket's keys in COS order (UTF-8 byte order), reading only the folders
   * `descend` accepts. s3rver's own listing walks folders in file-name order, which is not
   * key order ('a/b' before 'a'), so paging by marker over it skips and repeats keys.
   * @param descend called with the key prefix of a folder ('dir/sub/'); false skips it.
   */
  async *keysInOrder(bucket: string, descend: (folderPrefix: string) => boolean): AsyncGenerator<string> {
    yield* this.#walk(this.#store.getBucketPath(bucket), '', descend);
  }

  async *#walk(
    directory: string,
    keyPrefix: string,
    descend: (folderPrefix: string) => boolean,
  ): AsyncGenerator<string> {
    let entries: Dirent[];
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch (err) {
      // a folder emptied and removed by a concurrent delete simply has no keys
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return;
      throw err;
    }
    const items: Array<{ name: string; key: string; folder: boolean; bytes: Buffer }> = [];
    for (const entry of entries) {
      if (entry.isDirectory()) {
        if (entry.name.includes(STORE_RESERVED_MARKER)) continue; // s3rver's multipart upload area
        const key = keyPrefix + FilesystemStore.decodeKeyPath(entry.name) + '/';
        items.push({ name: entry.name, key, folder: true, bytes: Buffer.from(key) });
      } else if (entry.isFile() && entry.name.endsWith(OBJECT_FILE_SUFFIX)) {
        const segment = FilesystemStore.decodeKeyPath(entry.name.slice(0, -OBJECT_FILE_SUFFIX.length));
        const key = keyPrefix + segment;
        if (key === '') continue;
        items.push({ name: entry.name, key, folder: false, bytes: Buffer.from(key) });
      }
    }
    // A folder's keys all start with 'name/', and no object key in this folder contains '/',
    // so sorting files by key and folders by 'name/' yields every key below in order.
    items.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
    for (const item of items) {
      if (!item.folder) {
        yield item.key;
      } else if (descend(item.key)) {
        yield* this.#walk(join(directory, item.name), item.key, descend);
      }
    }
  }

  /** Size, ETag and modification time of the given keys; keys deleted meanwhile are left out. */
  async objectInfos(bucket: string, keys: readonly string[]): Promise<ObjectInfo[]> {
    const infos: Array<ObjectInfo | undefined> = new Array(keys.length);
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const index = next++;
        infos[index] = await this.#objectInfo(bucket, keys[index]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(METADATA_READ_CONCURRENCY, keys.length) }, worker));
    return infos.filter((info): info is ObjectInfo => info !== undefined);
  }

  /** Drops what is cached about an object; called around every write to it. */
  forget(bucket: string, key: string): void {
    this.#infos.delete(`${bucket}\0${key}`);
  }

  async #objectInfo(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    const cacheKey = `${bucket}\0${key}`;
    const cached = this.#infos.get(cacheKey);
    if (cached) return cached;
    try {
      const metadata = await this.#store.getMetadata(bucket, key);
      const info = {
        key,
        lastModified: new Date(metadata['last-modified']),
        etag: metadata.etag,
        size: Number(metadata['content-length']),
      };
      this.#infos.set(cacheKey, info);
      return info;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  /** Deletes an object; deleting a missing key succeeds, as on COS. */
  async deleteObject(bucket: string, key: string): Promise<void> {
    this.forget(bucket, key);
    try {
      await this.#store.deleteObject(bucket, key);
    } catch (err) {
      // s3rver removes emptied folders after the object's files; a concurrent put or delete in
      // the same folder can make that clean-up fail although the object itself is gone
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTEMPTY')) return;
      throw err;
    }
  }
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
