/**
 * The {@link Context} handlers get in web mode: the same interface and rules as event mode's, one
 * per handler call (the "invocation": listings are read once per call), over the connection's
 * socket and Redis.
 *
 * Counting: `delivered` in a {@link BroadcastResult} is what Redis reports, PUBLISH's receiver
 * count (every connection has its own Redis client, so that is a count of connections), less
 * the receivers that were excepted (they drop it: this connection when it listens on that
 * channel, and the other excepted connections the listing holds). It says Redis handed the frame
 * to that many connections' instances, which then write it to their sockets. `attempted` is the
 * listing less the excepted, raised to `delivered` when a connection that was not listed yet
 * (joining meanwhile) received it too. When fewer were reached than listed, Redis is asked which
 * listed connections have nobody listening on their own channel (PUBSUB NUMSUB): those are gone,
 * are forgotten, and are `removed`; any still short is `failed`.
 */
import { checkedSince, type HistoryEntry } from '../../lib/history';
import type { PushFrame } from '../../lib/push-client';
import type { ConnectionRecord } from '../../lib/registry';
import { checkedRoom } from '../../lib/rooms';
import type { Store } from '../../lib/store';
import { checkedName, type User } from '../../lib/users';
import { describeError } from '../../lib/errors';
import { AppError } from '../errors';
import { checkedFrame } from '../pushes';
import { distinctUsers, presenceEnvelope } from '../rooms';
import type { BroadcastResult, Connection, Context, Delivery, JoinResult, LeaveResult, Logger, Member, Outgoing, PresenceEvent, Room } from '../types';
import type { Session } from './session';
import type { GoneConnection, WebMember } from './state';

const publicMember = (m: WebMember): Member => ({ connectionId: m.connectionId, user: m.user });
const exceptSet = (except: string | readonly string[] | undefined) => new Set(typeof except === 'string' ? [except] : (except ?? []));

/** The context of one handler call in web mode. */
export class WebContext implements Context {
  readonly connectionId: string;
  readonly requestId?: string;
  readonly log: Logger;
  #listing: Promise<Connection[]> | undefined;
  readonly #rooms = new Map<string, WebRoom>();

  constructor(readonly session: Session) {
    this.connectionId = session.id;
    this.requestId = session.requestId;
    this.log = session.log;
  }

  /** The app's store, in Redis (see store.ts). */
  get store(): Store {
    return this.session.store;
  }

  async send(connectionId: string, data: Outgoing): Promise<Delivery> {
    const frame = checkedFrame(data);
    if (connectionId === this.connectionId) return this.session.sendOwn(frame);
    return this.#toConnection(connectionId, { kind: 'frame', from: this.connectionId, frame });
  }

  async close(connectionId: string): Promise<Delivery> {
    if (connectionId === this.connectionId) {
      this.session.socket?.close(1000);
      return this.session.socket ? 'delivered' : 'failed';
    }
    return this.#toConnection(connectionId, { kind: 'close', from: this.connectionId });
  }

  async broadcast(data: Outgoing, options: { except?: string | readonly string[] } = {}): Promise<BroadcastResult> {
    const frame = checkedFrame(data);
    const listed = (await this.connections()).map((c) => c.id);
    return this.fanOut(this.session.settings.keys.allChannel, listed, exceptSet(options.except), frame, {});
  }

  connections(): Promise<readonly Connection[]> {
    this.#listing ??= this.session.state.connections();
    return this.#listing;
  }

  /** This connection's record: its instance holds it, so it is never missing while connected. */
  async connection(): Promise<ConnectionRecord | undefined> {
    return this.session.record;
  }

  async user(): Promise<User> {
    return this.session.user;
  }

  async setName(name: string): Promise<User> {
    const checked = checkedName(name);
    const current = this.session.user;
    if (current.verified) throw new AppError('NAME_LOCKED', 'your name comes from your admission token and cannot be changed here', { errNo: 403 });
    const user: User = { ...current, name: checked };
    await this.session.rename(user);
    // The rooms it joined show members: they are told, as joins are (the connect-time room is not).
    const joined = [...this.session.rooms].flatMap(([room, explicit]) => (explicit ? [room] : []));
    for (const [name, room] of this.#rooms) if (!joined.includes(name)) void room.relist().catch(() => undefined);
    await Promise.all(
      joined.map((room) =>
        this.announce(this.#room(room), { room, event: 'rename', user }).catch((err: unknown) =>
          this.log.warn('could not announce a rename', { room, errMsg: describeError(err) }),
        ),
      ),
    );
    return user;
  }

  room(name: string): Room {
    return this.#room(name);
  }

  async rooms(): Promise<readonly string[]> {
    return [...this.session.rooms.keys()];
  }

  async join(name: string): Promise<JoinResult> {
    const room = this.#room(name);
    const already = this.session.rooms.get(name) === true;
    // Listening on the room and its key written before anything is read: a message sent
    // meanwhile then reaches this connection, or is already in the history it reads next.
    await this.session.joinRoom(name, true);
    const told = already
      ? { members: await room.relist(), presence: 'silent' as const }
      : await this.announce(room, { room: name, event: 'join', user: this.session.user });
    return { room: name, members: distinctUsers(told.members.map(publicMember)), online: told.members.length, presence: told.presence, already };
  }

  async leave(name: string): Promise<LeaveResult> {
    const room = this.#room(name);
    const before = await this.session.leaveRoom(name);
    if (!before) return { room: name, left: false, online: (await room.relist()).length, presence: 'silent' };
    // Only joins the client asked for were announced; leaving the connect-time room is as quiet.
    const told = before.explicit
      ? await this.announce(room, { room: name, event: 'leave', user: this.session.user })
      : { members: await room.relist(), presence: 'silent' as const };
    return { room: name, left: true, online: told.members.length, presence: told.presence };
  }

  async sendToUser(userId: string, data: Outgoing): Promise<BroadcastResult> {
    const frame = checkedFrame(data);
    const listed = await this.session.state.userConnections(userId);
    return this.fanOut(this.session.settings.keys.userChannel(userId), listed, new Set(), frame, { userId });
  }

  /**
   * Tells a room's members that `user` joined or left, unless the room is over the presence limit
   * or the user still has (or already had) another connection there, as event mode does.
   */
  async announce(room: WebRoom, event: Omit<PresenceEvent, 'online'>): Promise<{ members: WebMember[]; presence: JoinResult['presence'] }> {
    const members = await room.relist();
    const online = members.length;
    const others = members.filter((m) => m.connectionId !== this.connectionId);
    if (others.some((m) => m.user.id === event.user.id)) return { members, presence: 'silent' };
    if (online > this.session.settings.rooms.presenceLimit) return { members, presence: 'counted' };
    const message = (this.session.settings.app.presenceMessage ?? presenceEnvelope)({ ...event, online });
    if (message !== undefined && others.length > 0) await room.broadcast(message, { except: this.connectionId });
    return { members, presence: 'announced' };
  }

  /** Announces a leave in each room the connection had joined (at disconnect: its keys are gone already). */
  async announceLeaves(rooms: ReadonlyArray<{ room: string; explicit: boolean }>, user: User): Promise<void> {
    await Promise.all(
      rooms
        .filter((r) => r.explicit)
        .map((r) =>
          this.announce(this.#room(r.room), { room: r.room, event: 'leave', user }).catch((err: unknown) =>
            this.log.warn('could not announce a leave', { room: r.room, errMsg: describeError(err) }),
          ),
        ),
    );
  }

  /** Publishes a frame on a channel and counts it against the listing (see the module's notes). */
  async fanOut(
    channel: string,
    listed: readonly string[],
    except: ReadonlySet<string>,
    frame: PushFrame,
    hint: Omit<GoneConnection, 'id'>,
  ): Promise<BroadcastResult> {
    const targets = listed.filter((id) => !except.has(id));
    let receivers: number;
    try {
      receivers = await this.session.publish(channel, { kind: 'frame', from: this.connectionId, ...(except.size > 0 ? { except: [...except] } : {}), frame });
    } catch (err) {
      this.log.warn('publish failed', { errMsg: describeError(err), count: targets.length });
      return { attempted: targets.length, delivered: 0, removed: 0, failed: targets.length };
    }
    const exceptedListening =
      (except.has(this.connectionId) && this.session.listensTo(channel) ? 1 : 0) + listed.filter((id) => id !== this.connectionId && except.has(id)).length;
    const delivered = Math.max(0, receivers - exceptedListening);
    let removed = 0;
    if (delivered < targets.length) removed = await this.#prune(targets, hint);
    const attempted = Math.max(targets.length, delivered);
    return { attempted, delivered, removed, failed: Math.max(0, attempted - delivered - removed) };
  }

  /** Forgets the listed connections nobody listens for any more; returns how many. */
  async #prune(ids: readonly string[], hint: Omit<GoneConnection, 'id'>): Promise<number> {
    try {
      const listening = await this.session.state.listening(ids);
      const gone = ids.filter((id) => !listening.has(id) && id !== this.connectionId);
      if (gone.length > 0) this.log.info('pruning connections nobody listens for', { count: gone.length, id: gone[0] });
      return await this.session.state.forget(gone.map((id) => ({ id, ...hint })));
    } catch (err) {
      this.log.warn('could not prune connections', { count: ids.length, errMsg: describeError(err) });
      return 0;
    }
  }

  async #toConnection(connectionId: string, message: Parameters<Session['publish']>[1]): Promise<Delivery> {
    let receivers: number;
    try {
      receivers = await this.session.publish(this.session.settings.keys.connectionChannel(connectionId), message);
    } catch (err) {
      this.log.warn('publish failed', { errMsg: describeError(err), id: connectionId });
      return 'failed';
    }
    if (receivers > 0) return 'delivered';
    // Nobody listens on its channel: its instance is gone.
    try {
      await this.session.state.forget([{ id: connectionId }]);
    } catch (err) {
      this.log.warn('could not prune a connection', { errMsg: describeError(err) });
    }
    return 'removed';
  }

  #room(name: string): WebRoom {
    checkedRoom(name);
    let room = this.#rooms.get(name);
    if (!room) {
      room = new WebRoom(name, this);
      this.#rooms.set(name, room);
    }
    return room;
  }
}

/** A {@link Room} of one handler call. */
export class WebRoom implements Room {
  #listing: Promise<WebMember[]> | undefined;

  constructor(
    readonly name: string,
    private readonly ctx: WebContext,
  ) {}

  /** The room's listing, read once (again after {@link relist}). */
  listing(): Promise<WebMember[]> {
    this.#listing ??= this.ctx.session.state.members(this.name);
    return this.#listing;
  }

  /** Forgets the cached listing: the room changed under this call. */
  relist(): Promise<WebMember[]> {
    this.#listing = undefined;
    return this.listing();
  }

  async members(): Promise<readonly Member[]> {
    return (await this.listing()).map(publicMember);
  }

  async member(connectionId = this.ctx.connectionId): Promise<Member | undefined> {
    const session = this.ctx.session;
    // Its own rooms are what its instance knows; another connection's are what Redis says.
    if (connectionId === session.id) return session.rooms.has(this.name) ? { connectionId, user: session.user } : undefined;
    const member = await session.state.membership(connectionId, this.name);
    return member ? publicMember(member) : undefined;
  }

  async broadcast(data: Outgoing, options: { except?: string | readonly string[] } = {}): Promise<BroadcastResult> {
    const frame = checkedFrame(data);
    const listed = (await this.listing()).map((m) => m.connectionId);
    return this.ctx.fanOut(this.ctx.session.settings.keys.roomChannel(this.name), listed, exceptSet(options.except), frame, { room: this.name });
  }

  async remember<T>(data: T): Promise<HistoryEntry<T>> {
    return this.ctx.session.history.append(this.name, data, this.ctx.session.settings.rooms.historySize);
  }

  async history<T = unknown>(options: { since?: string } = {}): Promise<HistoryEntry<T>[]> {
    const since = options.since === undefined ? undefined : checkedSince(options.since);
    const limit = this.ctx.session.settings.rooms.historySize;
    if (limit === 0) return [];
    return this.ctx.session.history.read<T>(this.name, { limit, since });
  }
}
