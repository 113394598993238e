/**
 * Rooms: who is in which room, and which connections a user has, as COS keys whose listing is the
 * answer, so a room's broadcast lists that room alone.
 *
 *   room/<room>/<conn>.<user>                  a member of a room (its listing is the room)
 *   member/<conn>/<room>/<how>.<user>          the rooms of a connection (for leave and cleanup)
 *   user/<user id>/<conn>                      the connections of a user (for send-to-user)
 *
 * `<conn>` and `<user id>` are base64url; `<user>` packs the user (see users.ts), so a listing tells
 * who each member is without reading an object. `<how>` is `j` for a join the client asked for and
 * `a` for the room every connection is put in at connect. Every key is written and deleted as a
 * pair (or trio), and each has an expiry rule, as the connection records do.
 */
import type COS from 'cos-nodejs-sdk-v5';
import type { RegistryConfig } from './config';
import { cosClient, perConfig } from './cos-client';
import { deleteObjects, listObjects, mapLimit } from './cos-listing';
import { ChatError, ErrNo, describeError } from './errors';
import { decodeUser, encodeUser, type User } from './users';

export const ROOM_PREFIX = 'room/';
export const MEMBER_PREFIX = 'member/';
export const USER_PREFIX = 'user/';
/** A room name: 1-64 characters from letters, digits, `_` and `-`. */
export const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** How many COS requests one call makes at once. */
const CONCURRENCY = 16;

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
const unb64 = (s: string) => (/^[A-Za-z0-9_-]+$/.test(s) ? Buffer.from(s, 'base64url').toString('utf8') : undefined);

/** A member of a room, from its listing. */
export interface Member {
  connectionId: string;
  user: User;
  /** When its key was last written (ms since the epoch; NaN when the listing had no time). */
  lastModified: number;
  key: string;
}

/** A room a connection is in. */
export interface Membership {
  room: string;
  /** Whether the client asked to join (presence is announced for those), not put there at connect. */
  explicit: boolean;
  user: User;
}

/** Why a room name cannot be used, or undefined. */
export function roomProblem(room: unknown): string | undefined {
  return typeof room === 'string' && ROOM_NAME.test(room) ? undefined : 'a room name is 1-64 characters from letters, digits, _ and -';
}

/** A `BAD_ROOM` error unless `room` is a room name. */
export function checkedRoom(room: unknown): string {
  const problem = roomProblem(room);
  if (problem) throw new ChatError('BAD_ROOM', `${problem}, got ${JSON.stringify(room)?.slice(0, 80)}`, ErrNo.MALFORMED_EVENT);
  return room as string;
}

export function roomKey(room: string, connectionId: string, user: User): string {
  return `${ROOM_PREFIX}${room}/${b64(connectionId)}.${encodeUser(user)}`;
}

export function memberKey(connectionId: string, membership: Membership): string {
  return `${MEMBER_PREFIX}${b64(connectionId)}/${membership.room}/${membership.explicit ? 'j' : 'a'}.${encodeUser(membership.user)}`;
}

export function userKey(userId: string, connectionId: string): string {
  return `${USER_PREFIX}${b64(userId)}/${b64(connectionId)}`;
}

/** The member a room key stands for; undefined for a key that is not one. */
export function memberOfKey(key: string, lastModified = NaN): Member | undefined {
  const match = /^room\/[A-Za-z0-9_-]{1,64}\/([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(key);
  const connectionId = match && unb64(match[1]!);
  const user = match && decodeUser(match[2]!);
  return connectionId && user ? { connectionId, user, lastModified, key } : undefined;
}

/** The membership a member key stands for; undefined for a key that is not one. */
export function membershipOfKey(key: string): Membership | undefined {
  const match = /^member\/[A-Za-z0-9_-]+\/([A-Za-z0-9_-]{1,64})\/([ja])\.([A-Za-z0-9_-]+)$/.exec(key);
  const user = match && decodeUser(match[3]!);
  return match && user ? { room: match[1]!, explicit: match[2] === 'j', user } : undefined;
}

function roomsError(action: string, err: unknown): ChatError {
  return new ChatError('REGISTRY_UNAVAILABLE', `rooms: ${action} failed: ${describeError(err)}`, ErrNo.REGISTRY_UNAVAILABLE, { cause: err });
}

/** Room membership and users' connections, in the registry's bucket. */
export class RoomRegistry {
  private readonly cos: COS;
  private readonly where: { bucket: string; region: string };

  constructor(config: RegistryConfig, options: { timeoutMs?: number } = {}) {
    this.where = { bucket: config.bucket, region: config.region };
    this.cos = cosClient(config, options);
  }

  private async put(key: string): Promise<void> {
    await this.cos.putObject({ Bucket: this.where.bucket, Region: this.where.region, Key: key, Body: '', SkipTask: true } as COS.PutObjectParams);
  }

  private async list(prefix: string) {
    return listObjects(this.cos, this.where, prefix);
  }

  /** The room's members, one per connection, walking every page. */
  async members(room: string): Promise<Member[]> {
    try {
      return (await this.list(`${ROOM_PREFIX}${room}/`)).flatMap((o) => memberOfKey(o.key, o.lastModified) ?? []);
    } catch (err) {
      throw roomsError(`listing of room ${room}`, err);
    }
  }

  /** The rooms a connection is in. */
  async memberships(connectionId: string): Promise<Membership[]> {
    try {
      return (await this.list(`${MEMBER_PREFIX}${b64(connectionId)}/`)).flatMap((o) => membershipOfKey(o.key) ?? []);
    } catch (err) {
      throw roomsError('listing of a connection’s rooms', err);
    }
  }

  /** Whether, and how, a connection is in a room. */
  async membership(connectionId: string, room: string): Promise<Membership | undefined> {
    try {
      const [found] = (await listObjects(this.cos, this.where, `${MEMBER_PREFIX}${b64(connectionId)}/${room}/`, { limit: 10 })).flatMap(
        (o) => membershipOfKey(o.key) ?? [],
      );
      return found;
    } catch (err) {
      throw roomsError(`reading membership of room ${room}`, err);
    }
  }

  /**
   * Puts a connection in a room (the room key first: a broadcast lists rooms, and the member key
   * only serves leave and cleanup). A join the client asks for upgrades a connect-time one.
   * Returns the membership it replaced, if any.
   */
  async join(connectionId: string, membership: Membership): Promise<Membership | undefined> {
    const before = await this.membership(connectionId, membership.room);
    const kept: Membership = { ...membership, explicit: membership.explicit || (before?.explicit ?? false) };
    try {
      await this.put(roomKey(kept.room, connectionId, kept.user));
      await this.put(memberKey(connectionId, kept));
      const stale = before ? [roomKey(before.room, connectionId, before.user), memberKey(connectionId, before)] : [];
      const fresh = new Set([roomKey(kept.room, connectionId, kept.user), memberKey(connectionId, kept)]);
      const gone = stale.filter((k) => !fresh.has(k));
      if (gone.length > 0) await deleteObjects(this.cos, this.where, gone);
    } catch (err) {
      throw roomsError(`join of room ${membership.room}`, err);
    }
    return before;
  }

  /** Takes a connection out of a room; returns the membership it had, undefined when it was not in it. */
  async leave(connectionId: string, room: string): Promise<Membership | undefined> {
    const before = await this.membership(connectionId, room);
    if (!before) return undefined;
    try {
      // The room key first: once it is gone the room no longer sends here.
      await deleteObjects(this.cos, this.where, [roomKey(room, connectionId, before.user), memberKey(connectionId, before)]);
    } catch (err) {
      throw roomsError(`leave of room ${room}`, err);
    }
    return before;
  }

  /** Takes a connection out of every room; returns the memberships it had. */
  async leaveAll(connectionId: string): Promise<Membership[]> {
    const memberships = await this.memberships(connectionId);
    if (memberships.length === 0) return [];
    try {
      await deleteObjects(this.cos, this.where, [
        ...memberships.map((m) => roomKey(m.room, connectionId, m.user)),
        ...memberships.map((m) => memberKey(connectionId, m)),
      ]);
    } catch (err) {
      throw roomsError('removing a connection from its rooms', err);
    }
    return memberships;
  }

  /** Forgets members a room's broadcast found gone: their keys in this room only (other rooms prune their own). */
  async forget(room: string, members: readonly Member[]): Promise<number> {
    if (members.length === 0) return 0;
    try {
      const memberKeys = (
        await mapLimit(members, CONCURRENCY, async (m) => {
          const membership = await this.membership(m.connectionId, room);
          return membership ? [memberKey(m.connectionId, membership)] : [];
        })
      ).flat();
      await deleteObjects(this.cos, this.where, [...members.map((m) => m.key), ...memberKeys]);
      return members.length;
    } catch (err) {
      throw roomsError(`pruning room ${room}`, err);
    }
  }

  /** Shows a new user (a changed name) in every room the connection is in; returns those rooms. */
  async rename(connectionId: string, user: User): Promise<Membership[]> {
    const memberships = await this.memberships(connectionId);
    try {
      await mapLimit(memberships, CONCURRENCY, async (m) => {
        const renamed = { ...m, user };
        await this.put(roomKey(m.room, connectionId, user));
        await this.put(memberKey(connectionId, renamed));
        const old = [roomKey(m.room, connectionId, m.user), memberKey(connectionId, m)].filter(
          (k) => k !== roomKey(m.room, connectionId, user) && k !== memberKey(connectionId, renamed),
        );
        if (old.length > 0) await deleteObjects(this.cos, this.where, old);
      });
    } catch (err) {
      throw roomsError('renaming a member', err);
    }
    return memberships.map((m) => ({ ...m, user }));
  }

  /**
   * Rewrites a connection's keys with the same names, so that the expiry rules, which count from
   * the last write, keep them. Returns how many were rewritten.
   */
  async refresh(connectionId: string, userId: string): Promise<number> {
    const memberships = await this.memberships(connectionId);
    const keys = [...memberships.flatMap((m) => [roomKey(m.room, connectionId, m.user), memberKey(connectionId, m)]), userKey(userId, connectionId)];
    try {
      await mapLimit(keys, CONCURRENCY, (k) => this.put(k));
    } catch (err) {
      throw roomsError('refreshing a connection’s rooms', err);
    }
    return keys.length;
  }

  /** Records that a connection belongs to a user. */
  async addUserConnection(userId: string, connectionId: string): Promise<void> {
    try {
      await this.put(userKey(userId, connectionId));
    } catch (err) {
      throw roomsError('writing a user’s connection', err);
    }
  }

  /** Forgets that connections belong to a user. */
  async removeUserConnections(userId: string, connectionIds: readonly string[]): Promise<number> {
    try {
      return await deleteObjects(
        this.cos,
        this.where,
        connectionIds.map((id) => userKey(userId, id)),
      );
    } catch (err) {
      throw roomsError('removing a user’s connection', err);
    }
  }

  /** The connections of a user. */
  async userConnections(userId: string): Promise<string[]> {
    try {
      return (await this.list(`${USER_PREFIX}${b64(userId)}/`)).flatMap((o) => unb64(o.key.slice(o.key.lastIndexOf('/') + 1)) ?? []);
    } catch (err) {
      throw roomsError('listing a user’s connections', err);
    }
  }
}

/** The rooms client for a configuration, reused across warm invocations. */
export const roomsFor: (config: RegistryConfig) => RoomRegistry = perConfig((config) => new RoomRegistry(config));
