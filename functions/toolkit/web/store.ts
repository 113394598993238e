/**
 * The app store (`ctx.store`) over Redis: the same {@link Store} as event mode's COS store, with
 * the same key rules and byte-order listings. Values sit in one hash, their write times in
 * another, and the keys in a sorted set whose members all score 0, so Redis orders them byte by
 * byte, as COS does.
 */
import type { Redis } from 'ioredis';
import { ChatError, ErrNo, describeError } from '../../lib/errors';
import { STORE_PREFIX, storeKey, type ListOptions, type Store, type StoreEntry, type StoreValue } from '../../lib/store';
import type { RedisKeys } from './keys';
import { redisError } from './redis-errors';

/** Keys read per listing page and deleted per batch. */
const PAGE_SIZE = 1000;
/** A byte no UTF-8 string holds: every key with a prefix sorts below prefix + 0xff. */
const TOP = Buffer.from([0xff]);

/** A key checked as event mode checks it (non-empty, under 850 bytes with the prefix, no `..` segment or control character). */
function checkedKey(key: string): string {
  return storeKey(key).slice(STORE_PREFIX.length);
}

function bytesOf(value: StoreValue): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** The app's store in Redis. */
export class RedisStore implements Store {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async get(key: string): Promise<Buffer | undefined> {
    const field = checkedKey(key);
    try {
      return (await this.redis.hgetBuffer(this.keys.storeValues, field)) ?? undefined;
    } catch (err) {
      throw redisError('STORE_UNAVAILABLE', `app store: read of "${key}"`, err);
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
    const field = checkedKey(key);
    try {
      await this.redis
        .multi()
        .hset(this.keys.storeValues, field, bytesOf(value))
        .hset(this.keys.storeTimes, field, String(Date.now()))
        .zadd(this.keys.storeKeys, 0, field)
        .exec()
        .then(failedIn);
    } catch (err) {
      throw redisError('STORE_UNAVAILABLE', `app store: write of "${key}"`, err);
    }
  }

  async delete(key: string): Promise<void> {
    await this.#delete([checkedKey(key)], `delete of "${key}"`);
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    const fields = keys.map(checkedKey);
    let deleted = 0;
    for (let i = 0; i < fields.length; i += PAGE_SIZE) deleted += await this.#delete(fields.slice(i, i + PAGE_SIZE), 'delete');
    return deleted;
  }

  async list(prefix = '', options: ListOptions = {}): Promise<StoreEntry[]> {
    const limit = options.limit ?? Infinity;
    if (!(limit >= 0)) throw new ChatError('INVALID_LIMIT', `app store: limit must be 0 or more, got ${options.limit}`, ErrNo.MALFORMED_EVENT);
    const after = options.after !== undefined ? checkedKey(options.after) : undefined;
    const entries: StoreEntry[] = [];
    const max = prefix === '' ? '+' : Buffer.concat([Buffer.from(`(${prefix}`, 'utf8'), TOP]);
    // From the prefix on, or past `after` when that is further.
    let min: string = after !== undefined && Buffer.compare(Buffer.from(after), Buffer.from(prefix)) >= 0 ? `(${after}` : prefix === '' ? '-' : `[${prefix}`;
    try {
      while (entries.length < limit) {
        const count = Math.min(PAGE_SIZE, limit - entries.length);
        const page = await this.redis.zrangebylex(this.keys.storeKeys, min, max, 'LIMIT', 0, count);
        if (page.length === 0) break;
        const pipeline = this.redis.pipeline();
        for (const field of page) pipeline.hstrlen(this.keys.storeValues, field);
        pipeline.hmget(this.keys.storeTimes, ...page);
        const results = failedIn(await pipeline.exec());
        const times = results[page.length] as (string | null)[];
        page.forEach((key, i) => entries.push({ key, size: Number(results[i]), lastModified: times[i] === null ? NaN : Number(times[i]) }));
        if (page.length < count) break;
        min = `(${page[page.length - 1]}`;
      }
    } catch (err) {
      throw redisError('STORE_UNAVAILABLE', 'app store: list', err);
    }
    return entries;
  }

  async #delete(fields: string[], what: string): Promise<number> {
    if (fields.length === 0) return 0;
    try {
      const [removed] = failedIn(
        await this.redis
          .multi()
          .zrem(this.keys.storeKeys, ...fields)
          .hdel(this.keys.storeValues, ...fields)
          .hdel(this.keys.storeTimes, ...fields)
          .exec(),
      );
      return Number(removed);
    } catch (err) {
      throw redisError('STORE_UNAVAILABLE', `app store: ${what}`, err);
    }
  }
}

/**
 * The replies of a MULTI or pipeline, or the first command's error thrown. ioredis resolves
 * `exec()` with `[error, reply]` pairs (null when the transaction was discarded).
 */
export function failedIn(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error('transaction discarded');
  const failed = results.find(([err]) => err);
  if (failed) throw failed[0];
  return results.map(([, reply]) => reply);
}
