/**
 * A room's history: its last messages, one COS object each under `history/<room>/`, keyed so that
 * one listing returns the newest first.
 *
 * A message id is 18 characters of `[0-9a-z]`: the time in ms (9, base 36), a counter within the
 * ms (3) and randomness (6), so ids sort in time order as strings. The key holds the id with every
 * character mirrored in that alphabet (0↔z, 1↔y, …), which reverses the order: the listing's
 * first key is the newest message.
 */
import { randomBytes } from 'node:crypto';
import type COS from 'cos-nodejs-sdk-v5';
import type { RegistryConfig } from './config';
import { cosClient, perConfig } from './cos-client';
import { deleteObjects, listObjects, mapLimit } from './cos-listing';
import { ChatError, ErrNo, describeError } from './errors';

export const HISTORY_PREFIX = 'history/';
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
/** A message id. */
export const MESSAGE_ID = /^[0-9a-z]{18}$/;
const CONCURRENCY = 16;

/** One kept message. */
export interface HistoryEntry<T = unknown> {
  id: string;
  /** When it was kept, ISO time. */
  at: string;
  data: T;
}

let lastMs = 0;
let counter = 0;

/** A new message id, later than every id this instance made before. */
export function newMessageId(now = Date.now()): string {
  if (now <= lastMs) {
    counter += 1;
    // 36^3 ids within one ms: past that, borrow the next ms so order still holds.
    if (counter >= 36 ** 3) {
      lastMs += 1;
      counter = 0;
    }
  } else {
    lastMs = now;
    counter = 0;
  }
  const random = [...randomBytes(6)].map((b) => ALPHABET[b % 36]).join('');
  return lastMs.toString(36).padStart(9, '0') + counter.toString(36).padStart(3, '0') + random;
}

/** The id with each character mirrored in the alphabet: sorts in the reverse order. */
export function mirrored(id: string): string {
  return [...id].map((c) => ALPHABET[ALPHABET.length - 1 - ALPHABET.indexOf(c)]).join('');
}

/** When a message id was made (ms since the epoch). */
export function timeOfId(id: string): number {
  return parseInt(id.slice(0, 9), 36);
}

export function historyKey(room: string, id: string): string {
  return `${HISTORY_PREFIX}${room}/${mirrored(id)}`;
}

/** A `BAD_SINCE` error unless `since` is a message id. */
export function checkedSince(since: unknown): string {
  if (typeof since !== 'string' || !MESSAGE_ID.test(since)) {
    throw new ChatError(
      'BAD_SINCE',
      `"since" must be a message id (18 characters of 0-9 a-z), got ${JSON.stringify(since)?.slice(0, 40)}`,
      ErrNo.MALFORMED_EVENT,
    );
  }
  return since;
}

function historyError(action: string, err: unknown): ChatError {
  return new ChatError('HISTORY_UNAVAILABLE', `history: ${action} failed: ${describeError(err)}`, ErrNo.REGISTRY_UNAVAILABLE, { cause: err });
}

/** Rooms' histories in the registry's bucket. */
export class RoomHistory {
  private readonly cos: COS;
  private readonly where: { bucket: string; region: string };

  constructor(config: RegistryConfig, options: { timeoutMs?: number } = {}) {
    this.where = { bucket: config.bucket, region: config.region };
    this.cos = cosClient(config, options);
  }

  /** Keeps a message under a new id and returns it. */
  async append<T>(room: string, data: T, now = Date.now()): Promise<HistoryEntry<T>> {
    const entry: HistoryEntry<T> = { id: newMessageId(now), at: new Date(now).toISOString(), data };
    try {
      await this.cos.putObject({
        Bucket: this.where.bucket,
        Region: this.where.region,
        Key: historyKey(room, entry.id),
        Body: JSON.stringify(entry),
        ContentType: 'application/json',
        SkipTask: true,
      } as COS.PutObjectParams);
    } catch (err) {
      throw historyError(`write to room ${room}`, err);
    }
    return entry;
  }

  /**
   * The room's last `limit` messages, oldest first; with `since`, only those after that id (none
   * twice, and none of what the client had). One listing, then one read per message.
   */
  async read<T = unknown>(room: string, { limit, since }: { limit: number; since?: string }): Promise<HistoryEntry<T>[]> {
    let keys: string[];
    try {
      const listed = await listObjects(this.cos, this.where, `${HISTORY_PREFIX}${room}/`, { limit });
      keys = listed.map((o) => o.key);
    } catch (err) {
      throw historyError(`listing of room ${room}`, err);
    }
    const after = since === undefined ? keys : keys.filter((k) => mirrored(k.slice(k.lastIndexOf('/') + 1)) > since);
    const entries = await mapLimit(after.reverse(), CONCURRENCY, async (key) => {
      try {
        const object = await this.cos.getObject({ Bucket: this.where.bucket, Region: this.where.region, Key: key });
        return JSON.parse(object.Body.toString('utf8')) as HistoryEntry<T>;
      } catch (err) {
        // Trimmed or expired between the listing and the read: it is no longer history.
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        if (err instanceof SyntaxError) return undefined;
        throw historyError(`read in room ${room}`, err);
      }
    });
    return entries.filter((e): e is HistoryEntry<T> => e !== undefined);
  }

  /** Deletes all but the newest `keep` messages of a room; returns how many it deleted. */
  async trim(room: string, keep: number, slack = 100): Promise<number> {
    try {
      const listed = await listObjects(this.cos, this.where, `${HISTORY_PREFIX}${room}/`, { limit: keep + slack });
      const extra = listed.slice(keep).map((o) => o.key);
      return extra.length > 0 ? await deleteObjects(this.cos, this.where, extra) : 0;
    } catch (err) {
      throw historyError(`trim of room ${room}`, err);
    }
  }
}

/** The history client for a configuration, reused across warm invocations. */
export const historyFor: (config: RegistryConfig) => RoomHistory = perConfig((config) => new RoomHistory(config));
