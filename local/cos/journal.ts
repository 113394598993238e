/**
 * One bucket's objects: an in-memory index over an append-only journal file.
 *
 * Each write appends one record to the bucket folder's {@link JOURNAL_FILE}; nothing else on disk changes, so a
 * write allocates no file (creating files is what made a write per WebSocket connect slow: three
 * new files per object cost ext4 1-2 ms of kernel time each connect). Writes queued meanwhile go
 * out in one `write`. The journal is replayed on open and rewritten with only the live records
 * once most of it is dead. Bodies above {@link INLINE_BODY_BYTES} live in files of their own in {@link BLOB_FOLDER}.
 */
import { randomUUID } from 'node:crypto';
import { type FileHandle, chmod, open, readdir, readFile, rename, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { CodedError } from '../coded-error';
import { STORE_RESERVED_MARKER } from './paths';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, makePrivateDir } from './private-files';

/** Bodies up to this size are kept in the journal and in memory; larger ones get a file each. */
export const INLINE_BODY_BYTES = 64 * 1024;
/** Rewrites happen once dead records exceed both this and the live ones. */
const COMPACT_MIN_DEAD_BYTES = 1024 * 1024;
/**
 * The journal's file and the large bodies' folder, in the bucket folder. Their names hold the
 * marker object keys may not hold, so no object (nor a folder of the old layout) can take them.
 */
export const JOURNAL_FILE = `${STORE_RESERVED_MARKER}objects.journal`;
export const BLOB_FOLDER = `${STORE_RESERVED_MARKER}blobs`;
/** Frame header: header length and inline body length, both uint32 big-endian. */
const FRAME_PREFIX_BYTES = 8;

/** One object as the journal holds it. */
export interface StoredObject {
  key: string;
  /** MD5 hex digest of the body. */
  md5: string;
  size: number;
  /** Last write, in ms since the epoch. */
  mtime: number;
  /** Stored request headers: content-type, cache-control..., x-amz-meta-*. */
  metadata: Record<string, string>;
  /** The body, for bodies up to {@link INLINE_BODY_BYTES}. */
  body?: Buffer;
  /** File name in {@link BLOB_FOLDER}, for larger bodies. */
  blob?: string;
}

type Header =
  { op: 'put'; key: string; md5: string; size: number; mtime: number; metadata: Record<string, string>; blob?: string } | { op: 'delete'; key: string };

interface Entry {
  object: StoredObject;
  /** Bytes its record takes in the journal. */
  frameBytes: number;
}

interface PendingWrite {
  frame: Buffer;
  done: { resolve(): void; reject(err: unknown): void };
  /** A blob to remove once this record is written (the body it replaced). */
  obsoleteBlob?: string;
}

/** Thrown when a journal cannot be read or written, with a `code` to branch on. */
export class JournalError extends CodedError {}

export class BucketJournal {
  readonly #folder: string;
  readonly #warn: (message: string) => void;
  readonly #entries = new Map<string, Entry>();
  /** Keys in COS order; rebuilt after keys come or go. */
  #sorted: string[] | undefined;
  #handle: FileHandle;
  #fileBytes: number;
  #liveBytes = 0;
  #pending: PendingWrite[] = [];
  #flushing: Promise<void> | undefined;
  #closed = false;
  /** Whether {@link BLOB_FOLDER} is known to exist and be private. */
  #blobFolderReady = false;

  private constructor(folder: string, handle: FileHandle, fileBytes: number, warn: (message: string) => void) {
    this.#folder = folder;
    this.#warn = (message) => warn(`local COS: ${message}`);
    this.#handle = handle;
    this.#fileBytes = fileBytes;
  }

  /**
   * Opens (or creates) the journal in an existing bucket folder and replays it. A record cut short
   * by a crash is dropped, with a warning, and the file is cut back to the last whole record.
   * @throws JournalError `ERR_NO_BUCKET_FOLDER` when the folder does not exist.
   */
  static async open(folder: string, warn: (message: string) => void = console.warn): Promise<BucketJournal> {
    const path = join(folder, JOURNAL_FILE);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      bytes = Buffer.alloc(0);
    }
    const records = replay(bytes);
    if (records.validBytes < bytes.length) {
      warn(`local COS: ${path} ends with ${bytes.length - records.validBytes} bytes of an unfinished write; they are dropped.`);
      await truncate(path, records.validBytes);
    }
    let handle: FileHandle;
    try {
      handle = await open(path, 'a', PRIVATE_FILE_MODE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new JournalError('ERR_NO_BUCKET_FOLDER', `The bucket folder ${folder} does not exist.`, { cause: err });
      }
      throw err;
    }
    try {
      // the objects are private whoever created the folder and the file, and whatever the umask
      await handle.chmod(PRIVATE_FILE_MODE);
      await chmod(folder, PRIVATE_DIR_MODE);
    } catch (err) {
      await handle.close();
      throw err;
    }
    const journal = new BucketJournal(folder, handle, records.validBytes, warn);
    for (const { header, body, frameBytes } of records.list) journal.#apply(header, body, frameBytes);
    await journal.#removeUnreferencedBlobs();
    return journal;
  }

  /** The object under `key`, or undefined. */
  get(key: string): StoredObject | undefined {
    return this.#entries.get(key)?.object;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Every key, in COS order (by UTF-8 bytes). The array is shared: do not change it. */
  sortedKeys(): readonly string[] {
    this.#sorted ??= [...this.#entries.keys()].sort(compareKeys);
    return this.#sorted;
  }

  /** Path of a blob file, for reading a large body. */
  blobPath(name: string): string {
    return join(this.#folder, BLOB_FOLDER, name);
  }

  /** A fresh blob path to stream a large body into before {@link put} records it. */
  async newBlob(): Promise<{ name: string; path: string }> {
    if (!this.#blobFolderReady) {
      await makePrivateDir(join(this.#folder, BLOB_FOLDER));
      this.#blobFolderReady = true;
    }
    const name = randomUUID();
    return { name, path: this.blobPath(name) };
  }

  /** Records an object; visible at once, resolved once written to the journal. */
  put(object: StoredObject): Promise<void> {
    if (this.#closed) return closedError();
    const header: Header = {
      op: 'put',
      key: object.key,
      md5: object.md5,
      size: object.size,
      mtime: object.mtime,
      metadata: object.metadata,
      ...(object.blob !== undefined ? { blob: object.blob } : {}),
    };
    const frame = encodeFrame(header, object.body);
    return this.#record(header, object.body, frame);
  }

  /** Removes an object; removing a missing key succeeds. Resolved once written to the journal. */
  delete(key: string): Promise<void> {
    if (this.#closed) return closedError();
    if (!this.#entries.has(key)) return Promise.resolve();
    const header: Header = { op: 'delete', key };
    return this.#record(header, undefined, encodeFrame(header));
  }

  /** Writes what is queued and closes the file. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#flushing) await this.#flushing;
    await this.#handle.close();
  }

  /**
   * Applies a record to the index at once and queues it. A failed write is undone in the index,
   * unless a later write to the key came since, so what is read matches what was acknowledged.
   */
  async #record(header: Header, body: Buffer | undefined, frame: Buffer): Promise<void> {
    const previous = this.#entries.get(header.key);
    this.#apply(header, body, header.op === 'put' ? frame.length : 0);
    const applied = this.#entries.get(header.key);
    try {
      await this.#enqueue(frame, previous?.object.blob);
    } catch (err) {
      if (this.#entries.get(header.key) === applied) {
        if (applied) this.#liveBytes -= applied.frameBytes;
        if (previous) {
          this.#entries.set(header.key, previous);
          this.#liveBytes += previous.frameBytes;
        } else {
          this.#entries.delete(header.key);
        }
        this.#sorted = undefined;
      }
      throw err;
    }
  }

  /** Applies a record to the index. */
  #apply(header: Header, body: Buffer | undefined, frameBytes: number): void {
    const previous = this.#entries.get(header.key);
    if (previous) this.#liveBytes -= previous.frameBytes;
    if (header.op === 'delete') {
      this.#entries.delete(header.key);
      if (previous) this.#unsort(header.key);
      return;
    }
    const { op: _op, ...fields } = header;
    this.#entries.set(header.key, { object: { ...fields, ...(body && !header.blob ? { body } : {}) }, frameBytes });
    this.#liveBytes += frameBytes;
    if (!previous) this.#insertSorted(header.key);
  }

  // The sorted keys are kept up to date key by key: re-sorting the whole bucket after every write
  // would make each listing cost O(bucket) however small its prefix.
  #insertSorted(key: string): void {
    if (!this.#sorted) return;
    const at = firstAtOrAfter(this.#sorted, key);
    if (this.#sorted[at] !== key) this.#sorted.splice(at, 0, key);
  }

  #unsort(key: string): void {
    if (!this.#sorted) return;
    const at = firstAtOrAfter(this.#sorted, key);
    if (this.#sorted[at] === key) this.#sorted.splice(at, 1);
  }

  #enqueue(frame: Buffer, obsoleteBlob: string | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ frame, done: { resolve, reject }, ...(obsoleteBlob ? { obsoleteBlob } : {}) });
      this.#scheduleFlush();
    });
  }

  #scheduleFlush(): void {
    if (this.#flushing) return;
    this.#flushing = this.#flush().finally(() => {
      this.#flushing = undefined;
      // a write queued by a caller resumed after the flush's last check, but before this ran
      if (this.#pending.length > 0) this.#scheduleFlush();
    });
  }

  /** Writes queued records in batches until none are left, rewriting the journal when mostly dead. */
  async #flush(): Promise<void> {
    // let the writes of this turn of the event loop join the batch
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      try {
        const bytes = Buffer.concat(batch.map((write) => write.frame));
        await this.#handle.write(bytes);
        this.#fileBytes += bytes.length;
        for (const write of batch) write.done.resolve();
      } catch (err) {
        const failure = new JournalError('ERR_JOURNAL_WRITE', `Writing ${join(this.#folder, JOURNAL_FILE)} failed: ${(err as Error).message}`, { cause: err });
        for (const write of batch) write.done.reject(failure);
        continue;
      }
      // failures past this point lose nothing: the records are written, and the next flush retries the rewrite
      for (const write of batch) {
        if (write.obsoleteBlob)
          await rm(this.blobPath(write.obsoleteBlob), { force: true }).catch((err: Error) =>
            this.#warn(`could not remove ${write.obsoleteBlob}: ${err.message}`),
          );
      }
      const dead = this.#fileBytes - this.#liveBytes;
      if (dead > COMPACT_MIN_DEAD_BYTES && dead > this.#liveBytes) {
        await this.#compact().catch((err: Error) => this.#warn(`could not rewrite ${join(this.#folder, JOURNAL_FILE)}: ${err.message}`));
      }
    }
  }

  /** Replaces the journal with one record per live object. Runs inside #flush, so no write interleaves. */
  async #compact(): Promise<void> {
    const path = join(this.#folder, JOURNAL_FILE);
    const next = `${path}.${randomUUID()}.tmp`;
    const frames: Buffer[] = [];
    for (const entry of this.#entries.values()) {
      const { object } = entry;
      const frame = encodeFrame(
        {
          op: 'put',
          key: object.key,
          md5: object.md5,
          size: object.size,
          mtime: object.mtime,
          metadata: object.metadata,
          ...(object.blob ? { blob: object.blob } : {}),
        },
        object.body,
      );
      entry.frameBytes = frame.length;
      frames.push(frame);
    }
    const bytes = Buffer.concat(frames);
    const handle = await open(next, 'w', PRIVATE_FILE_MODE);
    try {
      await handle.chmod(PRIVATE_FILE_MODE);
      await handle.write(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(next, path);
    await this.#handle.close();
    this.#handle = await open(path, 'a', PRIVATE_FILE_MODE);
    this.#fileBytes = bytes.length;
    // recounted: writes applied while the new file was written changed the live records
    this.#liveBytes = 0;
    for (const entry of this.#entries.values()) this.#liveBytes += entry.frameBytes;
  }

  /** Blobs left by a write that crashed before its record was written. */
  async #removeUnreferencedBlobs(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(join(this.#folder, BLOB_FOLDER));
    } catch {
      return;
    }
    const referenced = new Set<string>();
    for (const { object } of this.#entries.values()) if (object.blob) referenced.add(object.blob);
    for (const name of names) if (!referenced.has(name)) await rm(this.blobPath(name), { force: true });
  }
}

function closedError(): Promise<never> {
  return Promise.reject(new JournalError('ERR_JOURNAL_CLOSED', 'The local COS store is shutting down.'));
}

/**
 * Orders keys as COS does, by their UTF-8 bytes, without encoding them: UTF-16 order agrees with
 * it except that surrogates (characters beyond U+FFFF) must sort after U+E000-U+FFFF.
 */
/** The index of the first key not before `key` in sorted `keys` (binary search). */
export function firstAtOrAfter(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareKeys(keys[middle]!, key) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

function encodeFrame(header: Header, body?: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const inline = body && !(header.op === 'put' && header.blob) ? body : undefined;
  const frame = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + json.length + (inline?.length ?? 0));
  frame.writeUInt32BE(json.length, 0);
  frame.writeUInt32BE(inline?.length ?? 0, 4);
  json.copy(frame, FRAME_PREFIX_BYTES);
  inline?.copy(frame, FRAME_PREFIX_BYTES + json.length);
  return frame;
}

/** Reads whole records from the start of a journal; stops at the first one that is cut short or unreadable. */
function replay(bytes: Buffer): { list: Array<{ header: Header; body?: Buffer; frameBytes: number }>; validBytes: number } {
  const list: Array<{ header: Header; body?: Buffer; frameBytes: number }> = [];
  let at = 0;
  while (at + FRAME_PREFIX_BYTES <= bytes.length) {
    const headerBytes = bytes.readUInt32BE(at);
    const bodyBytes = bytes.readUInt32BE(at + 4);
    const end = at + FRAME_PREFIX_BYTES + headerBytes + bodyBytes;
    if (end > bytes.length) break;
    let header: Header;
    try {
      header = JSON.parse(bytes.toString('utf8', at + FRAME_PREFIX_BYTES, at + FRAME_PREFIX_BYTES + headerBytes)) as Header;
    } catch {
      break;
    }
    if (typeof header?.key !== 'string' || (header.op !== 'put' && header.op !== 'delete')) break;
    // copied out, so the journal's read buffer is not kept alive by one small body
    const body = bodyBytes > 0 ? Buffer.from(bytes.subarray(end - bodyBytes, end)) : header.op === 'put' && !header.blob ? Buffer.alloc(0) : undefined;
    list.push({ header, ...(body ? { body } : {}), frameBytes: end - at });
    at = end;
  }
  return { list, validBytes: at };
}
