/**
 * Who is connected, in which rooms, as which user, in Redis (the keys are in keys.ts). Each
 * instance is the authority on its own connection and writes that connection's keys; the others
 * only read them, and forget a connection once Redis says nobody listens on its channel.
 */
import type { Redis } from 'ioredis';
import type { ConnectionRecord } from '../../lib/registry';
import type { User } from '../../lib/users';
import type { Connection } from '../types';
import type { RedisKeys } from './keys';
import { redisError } from './redis-errors';
import { failedIn } from './store';

/** A member of a room, from the room's hash. */
export interface WebMember {
  connectionId: string;
  user: User;
  /** Joined by the client's request, not put there at connect. */
  explicit: boolean;
}

/** What an instance knows of its connection: everything its keys say. */
export interface Snapshot {
  record: ConnectionRecord & { user: User };
  /** Its rooms: room → joined by the client's request. */
  rooms: ReadonlyMap<string, boolean>;
}

/** Connections found gone, with where else they may be listed. */
export interface GoneConnection {
  id: string;
  room?: string;
  userId?: string;
}

const memberValue = (user: User, explicit: boolean) => JSON.stringify({ user, explicit });

function parseMember(connectionId: string, value: string): WebMember | undefined {
  try {
    const parsed = JSON.parse(value) as { user?: User; explicit?: boolean };
    if (!parsed?.user || typeof parsed.user.id !== 'string') return undefined;
    return { connectionId, user: parsed.user, explicit: parsed.explicit === true };
  } catch {
    return undefined;
  }
}

/** Connections, rooms and users in Redis, for one instance's client. */
export class RedisState {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    /** Life of a connection's record and room list unless its instance refreshes them. */
    private readonly ttlSeconds: number,
  ) {}

  /** Writes every key of a connection (at connect, and again after Redis came back). */
  async write({ record, rooms }: Snapshot): Promise<void> {
    const id = record.id;
    const m = this.redis.multi();
    m.set(this.keys.record(id), JSON.stringify(record), 'EX', this.ttlSeconds);
    m.zadd(this.keys.connections, Date.now(), id);
    m.sadd(this.keys.user(record.user.id), id);
    m.del(this.keys.memberships(id));
    for (const [room, explicit] of rooms) {
      m.hset(this.keys.room(room), id, memberValue(record.user, explicit));
      m.hset(this.keys.memberships(id), room, explicit ? 'j' : 'a');
    }
    if (rooms.size > 0) m.expire(this.keys.memberships(id), this.ttlSeconds);
    try {
      failedIn(await m.exec());
    } catch (err) {
      throw redisError('REGISTRY_UNAVAILABLE', 'connection registry: write of a connection', err);
    }
  }

  /** Extends a connection's keys; false when its record was gone (expired or forgotten): write it again. */
  async refresh(id: string): Promise<boolean> {
    const [had] = failedIn(
      await this.redis
        .multi()
        .expire(this.keys.record(id), this.ttlSeconds)
        .expire(this.keys.memberships(id), this.ttlSeconds)
        .zadd(this.keys.connections, Date.now(), id)
        .exec(),
    );
    return Number(had) === 1;
  }

  /** Removes a connection: out of its rooms, then its user's set, then its record. */
  async remove(id: string, userId: string, rooms: Iterable<string>): Promise<void> {
    const m = this.redis.multi();
    for (const room of rooms) m.hdel(this.keys.room(room), id);
    m.del(this.keys.memberships(id));
    m.srem(this.keys.user(userId), id);
    m.del(this.keys.record(id));
    m.zrem(this.keys.connections, id);
    m.del(this.keys.seq(this.keys.connectionChannel(id)));
    try {
      failedIn(await m.exec());
    } catch (err) {
      throw redisError('REGISTRY_UNAVAILABLE', 'connection registry: removal of a connection', err);
    }
  }

  /** Puts a connection in a room (or changes how it is there). */
  async join(id: string, room: string, user: User, explicit: boolean): Promise<void> {
    try {
      failedIn(
        await this.redis
          .multi()
          .hset(this.keys.room(room), id, memberValue(user, explicit))
          .hset(this.keys.memberships(id), room, explicit ? 'j' : 'a')
          .expire(this.keys.memberships(id), this.ttlSeconds)
          .exec(),
      );
    } catch (err) {
      throw redisError('REGISTRY_UNAVAILABLE', `rooms: join of room ${room}`, err);
    }
  }

  /** Takes a connection out of a room. */
  async leave(id: string, room: string): Promise<void> {
    try {
      failedIn(await this.redis.multi().hdel(this.keys.room(room), id).hdel(this.keys.memberships(id), room).exec());
    } catch (err) {
      throw redisError('REGISTRY_UNAVAILABLE', `rooms: leave of room ${room}`, err);
    }
  }

  /** Shows a renamed user in its record and every room the connection is in. */
  async rename(record: Snapshot['record'], rooms: ReadonlyMap<string, boolean>): Promise<void> {
    const m = this.redis.multi();
    m.set(this.keys.record(record.id), JSON.stringify(record), 'EX', this.ttlSeconds);
    for (const [room, explicit] of rooms) m.hset(this.keys.room(room), record.id, memberValue(record.user, explicit));
    try {
      failedIn(await m.exec());
    } catch (err) {
      throw redisError('REGISTRY_UNAVAILABLE', 'rooms: renaming a member', err);
    }
  }

  /** The room's members, one per connection, in connection id order. */
  async members(room: string): Promise<WebMember[]> {
    let hash: Record<string, string>;
    try {
      hash = await this.redis.hgetall(this.keys.room(room));
    } catch (err) {
      throw redisError('REGISTRY_UNAVAILABLE', `rooms: listing of room ${room}`, err);
    }
    return Object.keys(hash)
      .sort()
      .flatMap((id) => parseMember(id, hash[id]!) ?? []);
  }

  /** Whether, and as whom, a connection is in a room. */
  async membership(id: string, room: string): Promise<WebMember | undefined> {
    try {
      const value = await this.redis.hget(this.keys.room(room), id);
      return value === null ? undefined : parseMember(id, value);
    } catch (err) {
      throw redisError('REGISTRY_UNAVAILABLE', `rooms: reading membership of room ${room}`, err);
    }
  }

  /**
   * Every connection whose instance refreshed it within the record's life, with when it last did;
   * older entries (their instance is gone, and their record expired) are dropped on the way.
   */
  async connections(): Promise<Connection[]> {
    try {
      const [, listed] = failedIn(
        await this.redis
          .multi()
          .zremrangebyscore(this.keys.connections, '-inf', `(${Date.now() - this.ttlSeconds * 1000}`)
          .zrange(this.keys.connections, 0, '-1', 'WITHSCORES')
          .exec(),
      ) as [unknown, string[]];
      const out: Connection[] = [];
      for (let i = 0; i + 1 < listed.length; i += 2) out.push({ id: listed[i]!, lastModified: Number(listed[i + 1]) });
      return out;
    } catch (err) {
      throw redisError('REGISTRY_UNAVAILABLE', 'connection registry: listing', err);
    }
  }

  /** A connection's record. */
  async record(id: string): Promise<ConnectionRecord | undefined> {
    try {
      const value = await this.redis.get(this.keys.record(id));
      return value === null ? undefined : (JSON.parse(value) as ConnectionRecord);
    } catch (err) {
      throw redisError('REGISTRY_UNAVAILABLE', 'connection registry: read of a record', err);
    }
  }

  /** The connections of a user. */
  async userConnections(userId: string): Promise<string[]> {
    try {
      return (await this.redis.smembers(this.keys.user(userId))).sort();
    } catch (err) {
      throw redisError('REGISTRY_UNAVAILABLE', 'rooms: listing a user’s connections', err);
    }
  }

  /** Of these connections, those whose instance listens on their channel (PUBSUB NUMSUB). */
  async listening(ids: readonly string[]): Promise<Set<string>> {
    const alive = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const batch = ids.slice(i, i + 500);
      const reply = (await this.redis.call('PUBSUB', 'NUMSUB', ...batch.map((id) => this.keys.connectionChannel(id)))) as Array<string | number>;
      batch.forEach((id, j) => {
        if (Number(reply[j * 2 + 1]) > 0) alive.add(id);
      });
    }
    return alive;
  }

  /**
   * Forgets connections nobody listens for any more (their instance is gone): every room their
   * room list names (and `room`, when the list expired), their user's set, their record. Returns
   * how many it forgot.
   */
  async forget(gone: readonly GoneConnection[]): Promise<number> {
    if (gone.length === 0) return 0;
    try {
      const read = this.redis.pipeline();
      for (const g of gone) read.hkeys(this.keys.memberships(g.id)).get(this.keys.record(g.id));
      const replies = failedIn(await read.exec());
      const m = this.redis.multi();
      gone.forEach((g, i) => {
        const rooms = new Set([...((replies[i * 2] as string[]) ?? []), ...(g.room ? [g.room] : [])]);
        let userId = g.userId;
        try {
          userId = (JSON.parse((replies[i * 2 + 1] as string | null) ?? 'null') as ConnectionRecord | null)?.user?.id ?? userId;
        } catch {
          // An unreadable record names no user.
        }
        for (const room of rooms) m.hdel(this.keys.room(room), g.id);
        if (userId) m.srem(this.keys.user(userId), g.id);
        if (g.userId && g.userId !== userId) m.srem(this.keys.user(g.userId), g.id);
        m.del(this.keys.memberships(g.id), this.keys.record(g.id), this.keys.seq(this.keys.connectionChannel(g.id)));
        m.zrem(this.keys.connections, g.id);
      });
      failedIn(await m.exec());
      return gone.length;
    } catch (err) {
      throw redisError('REGISTRY_UNAVAILABLE', 'connection registry: pruning gone connections', err);
    }
  }
}
