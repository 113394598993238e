/**
 * A room's history in Redis: one sorted set per room whose members all score 0, so they sort as
 * strings. Each member is `<message id> <entry JSON>`; ids are event mode's (functions/lib/history.ts
 * `newMessageId`: 18 characters, in time order), so the set is in message order whichever instance
 * wrote each one, and a keep and its trim are one transaction.
 */
import type { Redis } from 'ioredis';
import { newMessageId, type HistoryEntry } from '../../lib/history';
import type { RedisKeys } from './keys';
import { redisError } from './redis-errors';
import { failedIn } from './store';

const ID_CHARS = 18;

/** Rooms' histories in Redis. */
export class RedisHistory {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Keeps a message under a new id, and trims the room to its newest `keep` in the same transaction. */
  async append<T>(room: string, data: T, keep: number, now = Date.now()): Promise<HistoryEntry<T>> {
    const entry: HistoryEntry<T> = { id: newMessageId(now), at: new Date(now).toISOString(), data };
    const key = this.keys.history(room);
    try {
      failedIn(
        await this.redis
          .multi()
          .zadd(key, 0, `${entry.id} ${JSON.stringify(entry)}`)
          // Ranks 0 … -(keep+1) are all but the newest `keep`.
          .zremrangebyrank(key, 0, -(keep + 1))
          .exec(),
      );
    } catch (err) {
      throw redisError('HISTORY_UNAVAILABLE', `history: write to room ${room}`, err);
    }
    return entry;
  }

  /** The room's last `limit` messages, oldest first; with `since`, only those after that id. */
  async read<T = unknown>(room: string, { limit, since }: { limit: number; since?: string }): Promise<HistoryEntry<T>[]> {
    if (limit <= 0) return [];
    let members: string[];
    try {
      members = await this.redis.zrange(this.keys.history(room), -limit, '-1');
    } catch (err) {
      throw redisError('HISTORY_UNAVAILABLE', `history: listing of room ${room}`, err);
    }
    const entries: HistoryEntry<T>[] = [];
    for (const member of members) {
      if (since !== undefined && member.slice(0, ID_CHARS) <= since) continue;
      try {
        entries.push(JSON.parse(member.slice(ID_CHARS + 1)) as HistoryEntry<T>);
      } catch {
        // Not one of ours: not history.
      }
    }
    return entries;
  }
}
