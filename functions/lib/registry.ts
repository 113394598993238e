/**
 * The connection registry: one COS object per open connection.
 */
import type COS from 'cos-nodejs-sdk-v5';
import type { RegistryConfig } from './config';
import { cosClient, perConfig } from './cos-client';
import { ChatError, ErrNo, describeError } from './errors';
import type { User } from './users';

/** Every registry key starts with this; the stack's expiry rule filters on it too. */
export const KEY_PREFIX = 'conn.';
/** COS answers at most this many keys per listing page. */
const PAGE_SIZE = 1000;
/** COS deletes at most this many keys per delete-multiple request. */
const DELETE_BATCH = 1000;

/**
 * Maps a connection id to its object key. Ids are base64 and contain `+`, `/` and `=`; a `/` would
 * create folders, so the id is stored as base64url of its bytes, which round-trips any string.
 */
export function keyForConnection(id: string): string {
  return KEY_PREFIX + Buffer.from(id, 'utf8').toString('base64url');
}

/** Inverse of {@link keyForConnection}; undefined for keys that are not connection keys. */
export function connectionForKey(key: string): string | undefined {
  if (!key.startsWith(KEY_PREFIX)) return undefined;
  const encoded = key.slice(KEY_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
  return Buffer.from(encoded, 'base64url').toString('utf8');
}

/** What is stored for each connection. */
export interface ConnectionRecord {
  id: string;
  connectedAt: string;
  sourceIp?: string;
  protocol?: string;
  /** What the admission token proved: its expiry, as ISO time. */
  claims?: { expiresAt: string };
  /** Who the connection is: from the token's claims (verified), or a guest the client may rename. */
  user?: User;
  /** Set when transport wrote the record back for a sender the listing lacked; `connectedAt` is then that time. */
  restored?: boolean;
}

/** A listed connection. */
export interface RegistryEntry {
  id: string;
  /** When its record was last written, in ms since the epoch (NaN if the listing had no valid time). */
  lastModified: number;
}

function registryError(action: string, err: unknown): ChatError {
  return new ChatError('REGISTRY_UNAVAILABLE', `connection registry: ${action} failed: ${describeError(err)}`, ErrNo.REGISTRY_UNAVAILABLE, {
    cause: err,
  });
}

/** Reads and writes the connection registry in one COS bucket. */
export class ConnectionRegistry {
  private readonly cos: COS;
  private readonly bucket: string;
  private readonly region: string;

  constructor(config: RegistryConfig, options: { timeoutMs?: number } = {}) {
    this.bucket = config.bucket;
    this.region = config.region;
    this.cos = cosClient(config, options);
  }

  /** Records a connection. Throws REGISTRY_UNAVAILABLE when it could not be written. */
  async add(record: ConnectionRecord): Promise<void> {
    try {
      await this.cos.putObject({
        Bucket: this.bucket,
        Region: this.region,
        Key: keyForConnection(record.id),
        Body: JSON.stringify(record),
        ContentType: 'application/json',
        // A one-shot write: the SDK's upload queue (made for files, with progress events) is skipped.
        SkipTask: true,
      } as COS.PutObjectParams);
    } catch (err) {
      throw registryError('write', err);
    }
  }

  /** A connection's record; undefined when there is none. Throws REGISTRY_UNAVAILABLE when it could not be read. */
  async get(id: string): Promise<ConnectionRecord | undefined> {
    let body: string;
    try {
      const object = await this.cos.getObject({ Bucket: this.bucket, Region: this.region, Key: keyForConnection(id) });
      body = object.Body.toString('utf8');
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw registryError('read', err);
    }
    try {
      return JSON.parse(body) as ConnectionRecord;
    } catch {
      // A record that is not JSON still says the connection is registered.
      return { id, connectedAt: '' };
    }
  }

  /** When a connection's record was last written (ms since the epoch); undefined when there is none. */
  async lastModified(id: string): Promise<number | undefined> {
    try {
      const head = await this.cos.headObject({ Bucket: this.bucket, Region: this.region, Key: keyForConnection(id) });
      return Date.parse(String((head.headers as Record<string, string> | undefined)?.['last-modified'] ?? ''));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw registryError('read', err);
    }
  }

  /** Removes a connection; removing one that is already gone succeeds. */
  async remove(id: string): Promise<void> {
    try {
      await this.cos.deleteObject({ Bucket: this.bucket, Region: this.region, Key: keyForConnection(id) });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return;
      throw registryError('delete', err);
    }
  }

  /** Removes many connections in batches; returns how many were removed. */
  async removeMany(ids: string[]): Promise<number> {
    let removed = 0;
    for (let i = 0; i < ids.length; i += DELETE_BATCH) {
      const batch = ids.slice(i, i + DELETE_BATCH);
      try {
        const result = await this.cos.deleteMultipleObject({
          Bucket: this.bucket,
          Region: this.region,
          Objects: batch.map((id) => ({ Key: keyForConnection(id) })),
          Quiet: true,
        });
        removed += batch.length - (result.Error?.length ?? 0);
      } catch (err) {
        throw registryError('delete', err);
      }
    }
    return removed;
  }

  /**
   * Rewrites a connection's record with the same content, so that the lifecycle rule, which counts
   * from the last write, keeps it. A record deleted meanwhile stays deleted. Returns whether it was rewritten.
   */
  async refresh(id: string): Promise<boolean> {
    const key = keyForConnection(id);
    let body: string;
    try {
      const object = await this.cos.getObject({ Bucket: this.bucket, Region: this.region, Key: key });
      body = object.Body.toString('utf8');
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return false;
      throw registryError('read', err);
    }
    try {
      await this.cos.putObject({
        Bucket: this.bucket,
        Region: this.region,
        Key: key,
        Body: body,
        ContentType: 'application/json',
        SkipTask: true,
      } as COS.PutObjectParams);
    } catch (err) {
      throw registryError('write', err);
    }
    return true;
  }

  /** Lists every registered connection id, walking all pages. */
  async list(): Promise<string[]> {
    return (await this.entries()).map((e) => e.id);
  }

  /** Lists every registered connection with the time its record was last written. */
  async entries(): Promise<RegistryEntry[]> {
    const entries: RegistryEntry[] = [];
    let marker: string | undefined;
    for (;;) {
      let page: COS.GetBucketResult;
      try {
        page = await this.cos.getBucket({
          Bucket: this.bucket,
          Region: this.region,
          Prefix: KEY_PREFIX,
          Marker: marker,
          MaxKeys: PAGE_SIZE,
        });
      } catch (err) {
        throw registryError('list', err);
      }
      const contents = page.Contents ?? [];
      for (const item of contents) {
        const id = connectionForKey(item.Key);
        if (id !== undefined) entries.push({ id, lastModified: Date.parse(item.LastModified) });
      }
      if (String(page.IsTruncated) !== 'true' || contents.length === 0) return entries;
      // COS sets NextMarker on truncated pages; fall back to the last key when it is missing.
      marker = page.NextMarker || contents[contents.length - 1].Key;
    }
  }
}

/** The registry client for a configuration, reused across warm invocations. */
export const registryFor: (config: RegistryConfig) => ConnectionRegistry = perConfig((config) => new ConnectionRegistry(config));
