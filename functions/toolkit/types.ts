/**
 * What an app's handlers receive and may call. Everything here is public: it is what a user's
 * editor shows while writing `onConnect`, `onMessage` and `onDisconnect`.
 */
import type { HistoryEntry } from '../lib/history';
import type { Level } from '../lib/log';
import type { ConnectionRecord } from '../lib/registry';
import type { Store } from '../lib/store';
import type { User } from '../lib/users';

export type { HistoryEntry, User };

/** A frame a client sent: text as a string, binary as bytes. */
export type Message = { type: 'text'; text: string } | { type: 'binary'; data: Buffer };

/**
 * What a handler may send to a client: a string is a text frame, bytes are a binary frame, and
 * anything else is sent as JSON text.
 */
export type Outgoing = string | Uint8Array | object;

/** What the admission token offered on connect proves. */
export interface AdmissionClaims {
  /** When the token stops being accepted. */
  expiresAt: Date;
  /** The user the token names, when it carries claims. */
  user?: User;
}

/** A connection in a room, with the user behind it. */
export interface Member {
  connectionId: string;
  user: User;
}

/** A room, as one invocation sees it: its listing is read once and reused. */
export interface Room {
  readonly name: string;
  /**
   * The room's members, one per connection, listed once per invocation (a join or leave by this
   * invocation lists again). @throws AppError `REGISTRY_UNAVAILABLE`
   */
  members(): Promise<readonly Member[]>;
  /**
   * Whether a connection is in the room, and as whom: one small listing of that connection's
   * rooms, not of the room. @default this invocation's connection
   */
  member(connectionId?: string): Promise<Member | undefined>;
  /**
   * Sends to the room's members but those in `except`; members found gone are removed from this
   * room. @throws AppError `MESSAGE_TOO_LARGE` (nothing is sent), `REGISTRY_UNAVAILABLE`
   */
  broadcast(data: Outgoing, options?: { except?: string | readonly string[] }): Promise<BroadcastResult>;
  /**
   * Keeps `data` (JSON) in the room's history under a new id that sorts after every earlier one
   * from this instance; older entries beyond `rooms.historySize` are trimmed when the invocation
   * ends. Call it before {@link broadcast}: a client joining meanwhile then finds it in one or
   * the other. @throws AppError `HISTORY_UNAVAILABLE`
   */
  remember<T>(data: T): Promise<HistoryEntry<T>>;
  /**
   * The room's kept messages, oldest first: the last `rooms.historySize`, or, with `since`, those
   * after that id. @throws AppError `HISTORY_UNAVAILABLE`, `BAD_SINCE`
   */
  history<T = unknown>(options?: { since?: string }): Promise<HistoryEntry<T>[]>;
}

/** What a join did. */
export interface JoinResult {
  room: string;
  /** Everyone in the room once joined, the joiner included; one per user. */
  members: readonly Member[];
  /** Connections in the room, the joiner's included. */
  online: number;
  /** Whether the others were told (`announced`), the room was over `rooms.presenceLimit` (`counted`), or nothing changed for them (`silent`: already a member, or the user has another connection there). */
  presence: 'announced' | 'counted' | 'silent';
  /** Already a member before (by the client's own join). */
  already: boolean;
}

/** What a leave did. */
export interface LeaveResult {
  room: string;
  /** False when the connection was not in the room. */
  left: boolean;
  /** Connections in the room afterwards. */
  online: number;
  presence: JoinResult['presence'];
}

/** A join, a leave or a new name, as members of the room are told. */
export interface PresenceEvent {
  room: string;
  /** `rename`: a member of the room changed its display name. */
  event: 'join' | 'leave' | 'rename';
  user: User;
  /** Connections in the room after it. */
  online: number;
}

/** A connection the registry holds. */
export interface Connection {
  id: string;
  /** When its record was last written (ms since the epoch; NaN when the listing had no time). */
  lastModified: number;
}

/** A connection's record, as register wrote it. */
export type { ConnectionRecord };

/** How one send or close ended. */
export type Delivery =
  /** The gateway took it. */
  | 'delivered'
  /** The client is gone (or was asked to close, after an undocumented errNo): its record was removed. */
  | 'removed'
  /** No answer to trust (network error, timeout): the client may still be there. */
  | 'failed';

/** What a broadcast did. */
export interface BroadcastResult {
  /** Connections it was sent to. */
  attempted: number;
  delivered: number;
  /** Connections found gone (or asked to close) and removed from the registry. */
  removed: number;
  failed: number;
}

/** One JSON line per call, with the function and connection (shortened) in it. */
export type Logger = Record<Level, (message: string, fields?: Record<string, unknown>) => void>;

/** What every handler gets. */
export interface Context {
  /** The connection the event is about. */
  readonly connectionId: string;
  /** The invocation's request id, when the platform gives one. */
  readonly requestId?: string;
  readonly log: Logger;
  /** Sends to one connection. @throws AppError `MESSAGE_TOO_LARGE` over 256 KB (nothing is sent). */
  send(connectionId: string, data: Outgoing): Promise<Delivery>;
  /** Asks the gateway to close a connection (its cleanup then runs). */
  close(connectionId: string): Promise<Delivery>;
  /**
   * Sends to every registered connection but those in `except`, at most `PUSH_CONCURRENCY` at a
   * time; connections found gone are removed from the registry.
   * @throws AppError `MESSAGE_TOO_LARGE` over 256 KB (nothing is sent), `REGISTRY_UNAVAILABLE`.
   */
  broadcast(data: Outgoing, options?: { except?: string | readonly string[] }): Promise<BroadcastResult>;
  /** The registered connections, read once per invocation. @throws AppError `REGISTRY_UNAVAILABLE`. */
  connections(): Promise<readonly Connection[]>;
  /** This connection's record (protocol, claims, connect time), or undefined if it has none. */
  connection(): Promise<ConnectionRecord | undefined>;
  /** The app's own key-value state, kept in the registry's bucket under `app/` (never expired). */
  readonly store: Store;
  /** This connection's user: verified from the token's claims, else a guest (`guest-<hash>`). Read once per invocation. */
  user(): Promise<User>;
  /**
   * Renames this connection's unverified user, in its record and every room it is in; rooms it
   * joined are told (`presence` event `rename`), as joins are.
   * @throws AppError `BAD_NAME` (1-64 characters, no control characters), `NAME_LOCKED` for a verified user
   */
  setName(name: string): Promise<User>;
  /**
   * Puts this connection in a room (a connection may be in several), and tells the room's other
   * members (`presence` join) while it has at most `rooms.presenceLimit` connections.
   * @throws AppError `BAD_ROOM`, `REGISTRY_UNAVAILABLE`
   */
  join(room: string): Promise<JoinResult>;
  /** Takes this connection out of a room, telling the others as {@link join} does. @throws AppError `BAD_ROOM`, `REGISTRY_UNAVAILABLE` */
  leave(room: string): Promise<LeaveResult>;
  /** The rooms this connection is in. */
  rooms(): Promise<readonly string[]>;
  /** A room by name (nothing is read until it is used). @throws AppError `BAD_ROOM` */
  room(name: string): Room;
  /** Sends to every connection of a user; those found gone are forgotten. @throws AppError `MESSAGE_TOO_LARGE`, `REGISTRY_UNAVAILABLE` */
  sendToUser(userId: string, data: Outgoing): Promise<BroadcastResult>;
}

/** What `onConnect` gets: the handshake, before the client is accepted. */
export interface ConnectContext extends Context {
  /** The subprotocol chosen from the app's `protocols`, if the client offered one. */
  readonly protocol?: string;
  /** Present when the stage requires admission: what the client's token proves. */
  readonly claims?: AdmissionClaims;
  readonly sourceIp?: string;
  /** Everything the client offered as subprotocols. */
  readonly offered: readonly string[];
}

/** An app: three optional callbacks and the subprotocols it speaks. */
export interface AppDefinition {
  /**
   * Subprotocols the app speaks, in order of preference. A client that offers some must offer one
   * of these; a client that offers none is accepted without one. With admission, the token is
   * offered beside one of them. @default []
   */
  readonly protocols?: readonly string[];
  /**
   * A client is connecting. Throw an {@link AppError} with an `errNo` to refuse it (the client sees
   * HTTP 403); the connection is registered only after this returns, and cannot be sent to yet.
   */
  onConnect?(ctx: ConnectContext): void | Promise<void>;
  /**
   * A client sent a frame. A throw is answered to the sender (see `errorMessage`); the connection
   * stays open unless the handler closes it.
   */
  onMessage?(ctx: Context, message: Message): void | Promise<void>;
  /**
   * The room every connection is put in at connect, silently (no presence event), e.g. `lobby`.
   * @default none
   */
  readonly lobby?: string;
  /**
   * What a room's members are sent when someone joins or leaves; undefined sends nothing.
   * @default `{"type":"presence","room":…,"event":"join"|"leave","user":{…},"online":N}`
   */
  presenceMessage?(event: PresenceEvent): Outgoing | undefined;
  /** A client left; its record is already removed, and it is out of every room. A throw is logged. */
  onDisconnect?(ctx: Context): void | Promise<void>;
  /**
   * What the sender is told when a message could not be handled; undefined sends nothing.
   * @default `{"type":"error","code":<code>,"message":<message>}`
   */
  errorMessage?(error: { code: string; message: string }): Outgoing | undefined;
}
