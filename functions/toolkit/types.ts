/**
 * What an app's handlers receive and may call. Everything here is public: it is what a user's
 * editor shows while writing `onConnect`, `onMessage` and `onDisconnect`.
 */
import type { Level } from '../lib/log';
import type { ConnectionRecord } from '../lib/registry';
import type { Store } from '../lib/store';

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
  /** A client left; its record is already removed. A throw is logged. */
  onDisconnect?(ctx: Context): void | Promise<void>;
  /**
   * What the sender is told when a message could not be handled; undefined sends nothing.
   * @default `{"type":"error","code":<code>,"message":<message>}`
   */
  errorMessage?(error: { code: string; message: string }): Outgoing | undefined;
}
