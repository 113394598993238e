/**
 * An app's own state: a small key-value store in the registry's bucket, under `app/`. The bucket's
 * expiry rule filters on the registry's `conn.` prefix, so what an app keeps here stays until it is
 * deleted (or the stack is destroyed: the bucket is emptied then).
 */
import type COS from 'cos-nodejs-sdk-v5';
import type { RegistryConfig } from './config';
import { cosClient, perConfig } from './cos-client';
import { ChatError, ErrNo, describeError } from './errors';

/** Every store key starts with this in the bucket; the app sees keys without it. */
export const STORE_PREFIX = 'app/';
/** COS answers at most this many keys per listing page. */
const PAGE_SIZE = 1000;
/** COS deletes at most this many keys per delete-multiple request. */
const DELETE_BATCH = 1000;
/** COS object keys are at most 850 bytes; the prefix takes some. */
export const MAX_KEY_BYTES = 850 - STORE_PREFIX.length;

/** What a value may be: a string or bytes are stored as they are, anything else as JSON. */
export type StoreValue = string | Uint8Array | object;

/** A listed key. */
export interface StoreEntry {
  /** The key, without the store's prefix. */
  key: string;
  /** Bytes stored. */
  size: number;
  /** When it was last written (ms since the epoch; NaN when the listing had no time). */
  lastModified: number;
}

/** Options of {@link Store.list}. */
export interface ListOptions {
  /** Only keys after this one (in key order), to page on from a previous listing's last key. */
  after?: string;
  /** At most this many entries. @default all */
  limit?: number;
}

/**
 * The app's key-value store, `ctx.store` in a handler. Keys are listed in byte order, so keys that
 * sort as they should (zero-padded numbers, ISO times) give ordered listings.
 * Every method throws a coded error: `STORE_UNAVAILABLE` when COS fails, `INVALID_KEY` for an empty
 * or over-long key, a `..` segment or a control character (a handler's client is told the code).
 */
export interface Store {
  /** The value's bytes; undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  /** The value parsed as JSON; undefined when there is none. Throws `INVALID_VALUE` when it is not JSON. */
  getJson<T = unknown>(key: string): Promise<T | undefined>;
  /** Writes a value: a string as UTF-8 text, bytes as they are, anything else as JSON. */
  put(key: string, value: StoreValue): Promise<void>;
  /** Deletes a key; deleting one that is not there succeeds. */
  delete(key: string): Promise<void>;
  /** Deletes many keys in batches; returns how many were deleted. */
  deleteMany(keys: readonly string[]): Promise<number>;
  /** The keys starting with `prefix`, in key order, walking every page (or until `limit`). */
  list(prefix?: string, options?: ListOptions): Promise<StoreEntry[]>;
}

function storeError(action: string, err: unknown): ChatError {
  return new ChatError('STORE_UNAVAILABLE', `app store: ${action} failed: ${describeError(err)}`, ErrNo.REGISTRY_UNAVAILABLE, { cause: err });
}

/** The bucket key of an app key; refuses keys COS or the prefix could not keep apart. */
export function storeKey(key: string): string {
  if (typeof key !== 'string' || key === '') throw new ChatError('INVALID_KEY', 'app store: a key must be a non-empty string', ErrNo.MALFORMED_EVENT);
  if (Buffer.byteLength(key) > MAX_KEY_BYTES)
    throw new ChatError('INVALID_KEY', `app store: key is ${Buffer.byteLength(key)} bytes, over the ${MAX_KEY_BYTES}-byte limit`, ErrNo.MALFORMED_EVENT);
  // `..` segments and control characters would be rewritten or refused by COS and its SDK.
  if (key.split('/').includes('..') || /[\u0000-\u001f\u007f]/.test(key)) {
    throw new ChatError(
      'INVALID_KEY',
      `app store: key "${key.replace(/[\u0000-\u001f\u007f]/g, '?')}" has a ".." segment or a control character`,
      ErrNo.MALFORMED_EVENT,
    );
  }
  return STORE_PREFIX + key;
}

function bodyOf(value: StoreValue): { body: Buffer; type: string } {
  if (typeof value === 'string') return { body: Buffer.from(value, 'utf8'), type: 'text/plain; charset=utf-8' };
  if (value instanceof Uint8Array) return { body: Buffer.from(value.buffer, value.byteOffset, value.byteLength), type: 'application/octet-stream' };
  return { body: Buffer.from(JSON.stringify(value), 'utf8'), type: 'application/json' };
}

/** The store in one COS bucket. */
export class CosStore implements Store {
  private readonly cos: COS;
  private readonly bucket: string;
  private readonly region: string;

  constructor(config: RegistryConfig, options: { timeoutMs?: number } = {}) {
    this.bucket = config.bucket;
    this.region = config.region;
    this.cos = cosClient(config, options);
  }

  async get(key: string): Promise<Buffer | undefined> {
    const Key = storeKey(key);
    try {
      const object = await this.cos.getObject({ Bucket: this.bucket, Region: this.region, Key });
      return object.Body;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw storeError(`read of "${key}"`, err);
    }
  }

  async getJson<T = unknown>(key: string): Promise<T | undefined> {
    const body = await this.get(key);
    if (body === undefined) return undefined;
    try {
      return JSON.parse(body.toString('utf8')) as T;
    } catch (err) {
      throw new ChatError('INVALID_VALUE', `app store: "${key}" is not JSON: ${describeError(err)}`, ErrNo.MISCONFIGURED, { cause: err });
    }
  }

  async put(key: string, value: StoreValue): Promise<void> {
    const Key = storeKey(key);
    const { body, type } = bodyOf(value);
    try {
      // A one-shot write: the SDK's upload queue (made for files, with progress events) is skipped.
      await this.cos.putObject({ Bucket: this.bucket, Region: this.region, Key, Body: body, ContentType: type, SkipTask: true } as COS.PutObjectParams);
    } catch (err) {
      throw storeError(`write of "${key}"`, err);
    }
  }

  async delete(key: string): Promise<void> {
    const Key = storeKey(key);
    try {
      await this.cos.deleteObject({ Bucket: this.bucket, Region: this.region, Key });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return;
      throw storeError(`delete of "${key}"`, err);
    }
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    const bucketKeys = keys.map(storeKey);
    let deleted = 0;
    for (let i = 0; i < bucketKeys.length; i += DELETE_BATCH) {
      const batch = bucketKeys.slice(i, i + DELETE_BATCH);
      try {
        const result = await this.cos.deleteMultipleObject({ Bucket: this.bucket, Region: this.region, Objects: batch.map((Key) => ({ Key })), Quiet: true });
        deleted += batch.length - (result.Error?.length ?? 0);
      } catch (err) {
        throw storeError('delete', err);
      }
    }
    return deleted;
  }

  async list(prefix = '', options: ListOptions = {}): Promise<StoreEntry[]> {
    const limit = options.limit ?? Infinity;
    if (!(limit >= 0)) throw new ChatError('INVALID_LIMIT', `app store: limit must be 0 or more, got ${options.limit}`, ErrNo.MALFORMED_EVENT);
    const entries: StoreEntry[] = [];
    // Marker is exclusive: listing starts after it, as `after` promises.
    let marker = options.after !== undefined ? storeKey(options.after) : undefined;
    while (entries.length < limit) {
      let page: COS.GetBucketResult;
      try {
        page = await this.cos.getBucket({
          Bucket: this.bucket,
          Region: this.region,
          Prefix: STORE_PREFIX + prefix,
          Marker: marker,
          MaxKeys: Math.min(PAGE_SIZE, limit - entries.length),
        });
      } catch (err) {
        throw storeError('list', err);
      }
      const contents = page.Contents ?? [];
      for (const item of contents) {
        if (entries.length >= limit) break;
        entries.push({ key: item.Key.slice(STORE_PREFIX.length), size: Number(item.Size), lastModified: Date.parse(item.LastModified) });
      }
      if (String(page.IsTruncated) !== 'true' || contents.length === 0) break;
      // COS sets NextMarker on truncated pages; fall back to the last key when it is missing.
      marker = page.NextMarker || contents[contents.length - 1].Key;
    }
    return entries;
  }
}

/** The store client for a configuration, reused across warm invocations. */
export const storeFor: (config: RegistryConfig) => CosStore = perConfig((config) => new CosStore(config));
