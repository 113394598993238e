/**
 * The context handlers get: sends, closes and broadcasts through the push address, with the 256 KB
 * check, the registry and each room read at most once per invocation, the user behind the
 * connection, and the gateway's answers acted on.
 */
import { log, type Level } from '../lib/log';
import { readRegistryConfig, readRoomsConfig, type RoomsConfig } from '../lib/config';
import { historyFor } from '../lib/history';
import type { PushClient, PushOutcome } from '../lib/push-client';
import type { ConnectionRegistry, RegistryEntry } from '../lib/registry';
import { checkedRoom, roomsFor, type Member as ListedMember } from '../lib/rooms';
import { storeFor, type Store } from '../lib/store';
import { checkedName, guestOf, type User } from '../lib/users';
import { AppError } from './errors';
import { checkedFrame, deliveryOf, forgetRecords, settleOutcomes } from './pushes';
import { announce, distinctUsers, presenceEnvelope, RoomHandle, type RoomDeps } from './rooms';
import type {
  AppDefinition,
  BroadcastResult,
  Connection,
  ConnectionRecord,
  Context,
  Delivery,
  JoinResult,
  LeaveResult,
  Logger,
  Outgoing,
  PresenceEvent,
  Room,
} from './types';

export { deliveredSize, frameOf } from './pushes';

/** A logger for one function and connection. */
export function loggerFor(fn: string, connectionId: string | undefined): Logger {
  const at =
    (level: Level) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      log(level, fn, message, connectionId ? { id: connectionId, ...fields } : fields);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** What an invocation did, for its result and log line. */
export interface Tally {
  /** Pushes to other connections that the gateway took. */
  delivered: number;
  removed: number;
  refused: number;
  failed: number;
}

export interface ContextOptions {
  fn: string;
  connectionId: string;
  requestId?: string;
  /** Undefined where there is no push address (register, cleanup without `url`): sends then fail. */
  push: PushClient | undefined;
  registry: () => ConnectionRegistry;
  /** The app's presence message; the toolkit's envelope when absent. */
  app?: Pick<AppDefinition, 'presenceMessage'>;
  /** The user, when it is known before the record is (register). */
  user?: User;
  /**
   * Called the first time the handler lists the connections (with that listing) and the first time
   * it lists a room (with nothing): the sender's records are kept meanwhile.
   */
  onListing?: (entries?: Promise<RegistryEntry[]>) => void;
}

const rooms = () => roomsFor(readRegistryConfig());
const history = () => historyFor(readRegistryConfig());

/** The {@link Context} of one invocation. */
export class InvocationContext implements Context {
  readonly connectionId: string;
  readonly requestId?: string;
  readonly log: Logger;
  readonly tally: Tally = { delivered: 0, removed: 0, refused: 0, failed: 0 };
  #listing: Promise<RegistryEntry[]> | undefined;
  #user: Promise<User> | undefined;
  #rooms = new Map<string, RoomHandle>();
  #deferred: Array<Promise<unknown>> = [];
  #roomsConfig: RoomsConfig | undefined;
  readonly #options: ContextOptions;

  constructor(options: ContextOptions) {
    this.#options = options;
    this.connectionId = options.connectionId;
    this.requestId = options.requestId;
    this.log = loggerFor(options.fn, options.connectionId);
    if (options.user) this.#user = Promise.resolve(options.user);
  }

  /** Whether connections() was called: the listing it read is then reused. */
  get listing(): Promise<RegistryEntry[]> | undefined {
    return this.#listing;
  }

  /** The app's own objects, in the registry's bucket under `app/`; read from the same configuration. */
  get store(): Store {
    return storeFor(readRegistryConfig());
  }

  connections(): Promise<readonly Connection[]> {
    if (!this.#listing) {
      this.#listing = this.#options.registry().entries();
      this.#options.onListing?.(this.#listing);
    }
    return this.#listing;
  }

  async connection(): Promise<ConnectionRecord | undefined> {
    return this.#options.registry().get(this.connectionId);
  }

  async send(connectionId: string, data: Outgoing): Promise<Delivery> {
    const frame = checkedFrame(data);
    const [outcome] = await this.#settle([await this.#push().send(connectionId, frame)]);
    return outcome!;
  }

  async close(connectionId: string): Promise<Delivery> {
    const outcome = await this.#push().close(connectionId);
    if (outcome.status === 'delivered') return 'delivered';
    // A connection that cannot be asked to close is gone, or will be cut by the gateway anyway.
    return outcome.status === 'failed' ? 'failed' : (await this.#settle([outcome]))[0]!;
  }

  async broadcast(data: Outgoing, options: { except?: string | readonly string[] } = {}): Promise<BroadcastResult> {
    const frame = checkedFrame(data);
    const except = new Set(typeof options.except === 'string' ? [options.except] : (options.except ?? []));
    const ids = (await this.connections()).flatMap((c) => (except.has(c.id) ? [] : [c.id]));
    return this.#pushAll(ids, frame);
  }

  user(): Promise<User> {
    this.#user ??= this.#options
      .registry()
      .get(this.connectionId)
      .then((record) => record?.user ?? guestOf(this.connectionId));
    return this.#user;
  }

  async setName(name: string): Promise<User> {
    const checked = checkedName(name);
    const current = await this.user();
    if (current.verified) throw new AppError('NAME_LOCKED', 'your name comes from your admission token and cannot be changed here', { errNo: 403 });
    const user: User = { ...current, name: checked };
    const registry = this.#options.registry();
    const record = await registry.get(this.connectionId);
    await registry.add({ ...(record ?? { id: this.connectionId, connectedAt: new Date().toISOString() }), user });
    const renamed = await rooms().rename(this.connectionId, user);
    this.#user = Promise.resolve(user);
    // The rooms it joined show members: they are told, as joins are (the connect-time room is not).
    await Promise.all(
      renamed
        .filter((m) => m.explicit)
        .map((m) =>
          announce(this.#room(m.room), { room: m.room, event: 'rename', user }, this.#presenceDeps()).catch((err: unknown) =>
            this.log.warn('could not announce a rename', { room: m.room, errMsg: String((err as Error)?.message ?? err) }),
          ),
        ),
    );
    return user;
  }

  room(name: string): Room {
    return this.#room(name);
  }

  async rooms(): Promise<readonly string[]> {
    return (await rooms().memberships(this.connectionId)).map((m) => m.room);
  }

  async join(name: string): Promise<JoinResult> {
    const room = this.#room(name);
    const user = await this.user();
    // The key is written before anything is read: a message sent meanwhile is then either
    // broadcast to this connection or already in the history it reads next.
    const before = await rooms().join(this.connectionId, { room: name, explicit: true, user });
    const already = before?.explicit ?? false;
    const told = already
      ? { ...(await this.#count(room)), presence: 'silent' as const }
      : await announce(room, { room: name, event: 'join', user }, this.#presenceDeps());
    return {
      room: name,
      members: distinctUsers(told.members.map((m) => ({ connectionId: m.connectionId, user: m.user }))),
      online: told.online,
      presence: told.presence,
      already,
    };
  }

  async leave(name: string): Promise<LeaveResult> {
    const room = this.#room(name);
    const before = await rooms().leave(this.connectionId, name);
    if (!before) return { room: name, left: false, online: (await this.#count(room)).online, presence: 'silent' };
    // Only joins the client asked for were announced; leaving the connect-time room is as quiet.
    const told = before.explicit
      ? await announce(room, { room: name, event: 'leave', user: before.user }, this.#presenceDeps())
      : { ...(await this.#count(room)), presence: 'silent' as const };
    return { room: name, left: true, online: told.online, presence: told.presence };
  }

  async sendToUser(userId: string, data: Outgoing): Promise<BroadcastResult> {
    const frame = checkedFrame(data);
    const ids = await rooms().userConnections(userId);
    const forget = async (gone: string[]) => {
      await rooms().removeUserConnections(userId, gone);
      return this.#options.registry().removeMany(gone);
    };
    return this.#pushAll(ids, frame, forget);
  }

  /** Announces a leave for each room the connection was in (cleanup: the keys are gone already). */
  async announceLeaves(memberships: ReadonlyArray<{ room: string; explicit: boolean; user: User }>): Promise<void> {
    await Promise.all(
      memberships
        .filter((m) => m.explicit)
        .map((m) =>
          announce(this.#room(m.room), { room: m.room, event: 'leave', user: m.user }, this.#presenceDeps()).catch((err: unknown) =>
            this.log.warn('could not announce a leave', { room: m.room, errMsg: String((err as Error)?.message ?? err) }),
          ),
        ),
    );
  }

  /** Awaits what the invocation left to finish (history trims); failures are logged. */
  async settled(): Promise<void> {
    const tasks = this.#deferred.splice(0);
    await Promise.all(tasks);
  }

  #room(name: string): RoomHandle {
    checkedRoom(name);
    let room = this.#rooms.get(name);
    if (!room) {
      room = new RoomHandle(name, this.#roomDeps());
      this.#rooms.set(name, room);
    }
    return room;
  }

  #roomDeps(): RoomDeps {
    return {
      connectionId: this.connectionId,
      rooms,
      history,
      config: () => this.#config(),
      broadcast: (room, members, data) => {
        const byId = new Map(members.map((m) => [m.connectionId, m]));
        // Gone means gone: the record goes too. Other rooms prune their own keys when they next broadcast.
        const forget = async (gone: string[]) => {
          await rooms().forget(
            room,
            gone.flatMap((id) => byId.get(id) ?? []),
          );
          return this.#options.registry().removeMany(gone);
        };
        return this.#pushAll([...byId.keys()], checkedFrame(data), forget);
      },
      defer: (task) => {
        this.#deferred.push(task().catch((err: unknown) => this.log.warn('deferred work failed', { errMsg: String((err as Error)?.message ?? err) })));
      },
      onListing: () => this.#options.onListing?.(),
    };
  }

  #presenceDeps() {
    const message = this.#options.app?.presenceMessage ?? presenceEnvelope;
    return { connectionId: this.connectionId, presenceLimit: this.#config().presenceLimit, message: (e: PresenceEvent) => message(e) };
  }

  async #count(room: RoomHandle): Promise<{ online: number; members: ListedMember[] }> {
    const members = await room.relist();
    return { online: members.length, members };
  }

  #config(): RoomsConfig {
    this.#roomsConfig ??= readRoomsConfig();
    return this.#roomsConfig;
  }

  #push(): PushClient {
    if (!this.#options.push) throw new AppError('MISCONFIGURED', 'no push address (the function has no `url`): nothing can be sent', { errNo: 500 });
    return this.#options.push;
  }

  async #pushAll(ids: string[], frame: ReturnType<typeof checkedFrame>, forget?: (ids: string[]) => Promise<number>): Promise<BroadcastResult> {
    const deliveries = await this.#settle(await this.#push().broadcast(ids, frame), forget);
    return {
      attempted: ids.length,
      delivered: deliveries.filter((d) => d === 'delivered').length,
      removed: deliveries.filter((d) => d === 'removed').length,
      failed: deliveries.filter((d) => d === 'failed').length,
    };
  }

  /** Counts the gateway's answers for the invocation's result, then acts on them (see {@link settleOutcomes}). */
  async #settle(outcomes: PushOutcome[], forget = forgetRecords(this.#options.registry)): Promise<Delivery[]> {
    // What reached others: pushes to the connection itself (an ack, an error) are not counted.
    this.tally.delivered += outcomes.filter((o) => o.status === 'delivered' && o.id !== this.connectionId).length;
    this.tally.failed += outcomes.filter((o) => o.status === 'failed' && o.id !== this.connectionId).length;
    this.tally.refused += outcomes.filter((o) => o.status === 'refused').length;
    this.tally.removed += await settleOutcomes(outcomes, { push: () => this.#push(), forget, log: this.log });
    return outcomes.map(deliveryOf);
  }
}
