/**
 * Rooms as a handler sees them: a room's listing read once per invocation, broadcasts to that
 * listing alone, history kept beside it, and presence told to the members.
 */
import type { RoomsConfig } from '../lib/config';
import { checkedSince, type HistoryEntry, type RoomHistory } from '../lib/history';
import type { Member as ListedMember, RoomRegistry } from '../lib/rooms';
import type { User } from '../lib/users';
import type { BroadcastResult, JoinResult, Member, Outgoing, PresenceEvent, Room } from './types';

/** What a room handle needs from its invocation. */
export interface RoomDeps {
  connectionId: string;
  rooms: () => RoomRegistry;
  history: () => RoomHistory;
  config: () => RoomsConfig;
  /** Pushes to the listed members, settling gone ones by forgetting them from this room. */
  broadcast(room: string, members: readonly ListedMember[], data: Outgoing): Promise<BroadcastResult>;
  /** Work the invocation awaits before it ends (history trims). */
  defer(task: () => Promise<unknown>): void;
  /** Called when a room is listed, as the registry's listing is (the sender's records are kept meanwhile). */
  onListing?(): void;
}

const publicMember = (m: ListedMember): Member => ({ connectionId: m.connectionId, user: m.user });

/** One user per entry, in listing order: a user with two connections is one member to show. */
export function distinctUsers(members: readonly Member[]): Member[] {
  const seen = new Set<string>();
  return members.filter((m) => !seen.has(m.user.id) && seen.add(m.user.id));
}

/** The default presence envelope. */
export function presenceEnvelope(event: PresenceEvent): Outgoing {
  return { type: 'presence', room: event.room, event: event.event, user: event.user, online: event.online };
}

/** A {@link Room} of one invocation. */
export class RoomHandle implements Room {
  #listing: Promise<ListedMember[]> | undefined;

  constructor(
    readonly name: string,
    private readonly deps: RoomDeps,
  ) {}

  /** The room's listing, read once (again after {@link relist}). */
  listing(): Promise<ListedMember[]> {
    if (!this.#listing) {
      this.#listing = this.deps.rooms().members(this.name);
      this.deps.onListing?.();
    }
    return this.#listing;
  }

  /** Forgets the cached listing: the room changed under this invocation. */
  relist(): Promise<ListedMember[]> {
    this.#listing = undefined;
    return this.listing();
  }

  async members(): Promise<readonly Member[]> {
    return (await this.listing()).map(publicMember);
  }

  async member(connectionId = this.deps.connectionId): Promise<Member | undefined> {
    const membership = await this.deps.rooms().membership(connectionId, this.name);
    return membership ? { connectionId, user: membership.user } : undefined;
  }

  async broadcast(data: Outgoing, options: { except?: string | readonly string[] } = {}): Promise<BroadcastResult> {
    const except = new Set(typeof options.except === 'string' ? [options.except] : (options.except ?? []));
    const members = (await this.listing()).filter((m) => !except.has(m.connectionId));
    return this.deps.broadcast(this.name, members, data);
  }

  async remember<T>(data: T): Promise<HistoryEntry<T>> {
    const entry = await this.deps.history().append(this.name, data);
    const keep = this.deps.config().historySize;
    this.deps.defer(() => this.deps.history().trim(this.name, keep));
    return entry;
  }

  async history<T = unknown>(options: { since?: string } = {}): Promise<HistoryEntry<T>[]> {
    const since = options.since === undefined ? undefined : checkedSince(options.since);
    const limit = this.deps.config().historySize;
    if (limit === 0) return [];
    return this.deps.history().read<T>(this.name, { limit, since });
  }
}

/**
 * Tells a room's members that `user` joined or left, unless the room is over the presence limit
 * or the user still has (or already had) another connection there. Returns what was done.
 */
export async function announce(
  room: RoomHandle,
  event: Omit<PresenceEvent, 'online'>,
  deps: { connectionId: string; presenceLimit: number; message: (e: PresenceEvent) => Outgoing | undefined },
): Promise<{ online: number; presence: JoinResult['presence']; members: ListedMember[] }> {
  const members = await room.relist();
  const online = members.length;
  const others = members.filter((m) => m.connectionId !== deps.connectionId);
  if (others.some((m) => m.user.id === event.user.id)) return { online, presence: 'silent', members };
  if (online > deps.presenceLimit) return { online, presence: 'counted', members };
  const message = deps.message({ ...event, online });
  if (message !== undefined && others.length > 0) await room.broadcast(message, { except: deps.connectionId });
  return { online, presence: 'announced', members };
}

export type { User };
