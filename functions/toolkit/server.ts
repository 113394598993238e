/**
 * Pushing from outside the gateway's events: a client for any function, timer or script that knows
 * the push address (the deploy's outputs name it as `pushUrl`).
 *
 *   const server = createServerClient({ url: outputs.pushUrl, registry });
 *   await server.broadcast({ type: 'announcement', text: 'maintenance at noon' });
 *
 * There is no `info(id)`: the push address takes only `data send` and `closing`, and nothing on the
 * platform tells whether a connection is open or when it connected. The registry's record
 * (`connections()`) is the closest there is: what register wrote, kept while the client sends.
 */
import { DEFAULT_PUSH_CONCURRENCY, DEFAULT_PUSH_TIMEOUT_MS, type RegistryConfig } from '../lib/config';
import { PushClient, type PushOutcome } from '../lib/push-client';
import { registryFor } from '../lib/registry';
import { checkedRoom, roomsFor } from '../lib/rooms';
import { storeFor, type Store } from '../lib/store';
import { loggerFor } from './context';
import { AppError } from './errors';
import { checkedFrame, forgetRecords, settleOutcomes } from './pushes';
import type { Connection, Logger, Outgoing } from './types';

/** How one send or close ended, as the gateway answered it. */
export type ServerOutcome =
  /** The gateway took it. */
  | { id: string; status: 'delivered' }
  /** A non-200 answer: the gateway is closing that client. */
  | { id: string; status: 'gone'; httpStatus: number; error: string }
  /** HTTP 200 with a non-zero errNo (undocumented): not delivered; the client may still be open. */
  | { id: string; status: 'refused'; errNo: number; errMsg: string }
  /** No answer to trust (network error, timeout): the client may still be there. */
  | { id: string; status: 'failed'; error: string };

/** What a broadcast did. */
export interface ServerBroadcastResult {
  /** Connections it was sent to. */
  attempted: number;
  delivered: number;
  gone: number;
  refused: number;
  failed: number;
  /** Records removed from the registry: the gone and the refused (which were also asked to close). */
  removed: number;
  /** One per connection, in listing order. */
  outcomes: ServerOutcome[];
}

export interface ServerClientOptions {
  /** The gateway's reverse-push address (`http://…`). */
  url: string;
  /** Pushes in flight at once in a broadcast. @default 32 */
  concurrency?: number;
  /** Deadline of one push request. @default 3000 */
  timeoutMs?: number;
  /**
   * The app's registry bucket and credentials allowed to read it. With it the client also lists
   * connections, broadcasts, reaches the app's store, and removes the records of connections a push
   * found gone, as the handlers do.
   */
  registry?: RegistryConfig;
  /** @default JSON lines with `fn: "server"` */
  log?: Logger;
}

/** Sends and closes by connection id. */
export interface ServerClient {
  /**
   * Sends to one connection: a string as text, bytes as binary, anything else as JSON text. Never
   * throws for the gateway's answer: it is the outcome.
   * @throws AppError `MESSAGE_TOO_LARGE` over 256 KB (nothing is sent).
   */
  send(connectionId: string, data: Outgoing): Promise<ServerOutcome>;
  /** Asks the gateway to close a connection (its cleanup then runs). */
  close(connectionId: string): Promise<ServerOutcome>;
}

/** A {@link ServerClient} that also knows the app's registry. */
export interface RegistryServerClient extends ServerClient {
  /** The registered connections, listed anew on each call. @throws AppError `REGISTRY_UNAVAILABLE`. */
  connections(): Promise<Connection[]>;
  /**
   * Sends to every registered connection but those in `except`, at most `concurrency` at a time.
   * @throws AppError `MESSAGE_TOO_LARGE` (nothing is sent), `REGISTRY_UNAVAILABLE`.
   */
  broadcast(data: Outgoing, options?: { except?: string | readonly string[] }): Promise<ServerBroadcastResult>;
  /**
   * Sends to a room's members but those in `except` (one listing of that room); members found gone
   * are pruned from it, as a handler's room broadcast does.
   * @throws AppError `BAD_ROOM`, `MESSAGE_TOO_LARGE` (nothing is sent), `REGISTRY_UNAVAILABLE`.
   */
  broadcastToRoom(room: string, data: Outgoing, options?: { except?: string | readonly string[] }): Promise<ServerBroadcastResult>;
  /** Sends to every connection of a user. @throws AppError `MESSAGE_TOO_LARGE`, `REGISTRY_UNAVAILABLE`. */
  sendToUser(userId: string, data: Outgoing): Promise<ServerBroadcastResult>;
  /** The app's store (`ctx.store` in its handlers). */
  readonly store: Store;
}

function checkedInt(name: string, value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new AppError('INVALID_OPTIONS', `${name} must be an integer from 1 to ${max}, got ${value}`, { errNo: 500 });
  return value;
}

/**
 * A client of the push address. With `registry`, it also lists and broadcasts.
 * @throws AppError `INVALID_OPTIONS` for an address that is not http(s), or a bad concurrency or timeout.
 */
export function createServerClient(options: ServerClientOptions & { registry: RegistryConfig }): RegistryServerClient;
export function createServerClient(options: ServerClientOptions): ServerClient;
export function createServerClient(options: ServerClientOptions): ServerClient | RegistryServerClient {
  if (typeof options.url !== 'string' || !/^https?:\/\/[^/]/.test(options.url)) {
    throw new AppError('INVALID_OPTIONS', `url must be the gateway's http(s) push address, got ${JSON.stringify(options.url)}`, { errNo: 500 });
  }
  const push = new PushClient({
    url: options.url,
    concurrency: checkedInt('concurrency', options.concurrency, DEFAULT_PUSH_CONCURRENCY, 1024),
    timeoutMs: checkedInt('timeoutMs', options.timeoutMs, DEFAULT_PUSH_TIMEOUT_MS, 60_000),
  });
  const log = options.log ?? loggerFor('server', undefined);
  const registryConfig = options.registry;
  const registry = registryConfig ? () => registryFor(registryConfig) : undefined;
  // The handlers' own policy on gone and refused connections, where there is a registry to act on.
  const settle = (outcomes: PushOutcome[]) =>
    registry ? settleOutcomes(outcomes, { push: () => push, forget: forgetRecords(registry), log }) : Promise.resolve(0);

  const send = async (connectionId: string, data: Outgoing): Promise<ServerOutcome> => {
    const outcome = await push.send(connectionId, checkedFrame(data));
    await settle([outcome]);
    return outcome;
  };
  const close = async (connectionId: string): Promise<ServerOutcome> => {
    const outcome = await push.close(connectionId);
    // As in the handlers: a connection that cannot be asked to close is gone, or will be cut anyway.
    if (outcome.status === 'gone' || outcome.status === 'refused') await settle([outcome]);
    return outcome;
  };
  if (!registry) return { send, close };

  const connections = () => registry().entries();
  const rooms = () => roomsFor(registryConfig!);
  const pushAll = async (ids: string[], data: Outgoing, forget = forgetRecords(registry)): Promise<ServerBroadcastResult> => {
    const frame = checkedFrame(data);
    const outcomes = await push.broadcast(ids, frame);
    const removed = await settleOutcomes(outcomes, { push: () => push, forget, log });
    const count = (status: ServerOutcome['status']) => outcomes.filter((o) => o.status === status).length;
    return { attempted: ids.length, delivered: count('delivered'), gone: count('gone'), refused: count('refused'), failed: count('failed'), removed, outcomes };
  };
  const skipping = (except: string | readonly string[] | undefined) => new Set(typeof except === 'string' ? [except] : (except ?? []));
  return {
    send,
    close,
    connections,
    async broadcast(data, { except } = {}) {
      checkedFrame(data);
      const skip = skipping(except);
      return pushAll(
        (await connections()).flatMap((c) => (skip.has(c.id) ? [] : [c.id])),
        data,
      );
    },
    async broadcastToRoom(room, data, { except } = {}) {
      checkedRoom(room);
      checkedFrame(data);
      const skip = skipping(except);
      const members = (await rooms().members(room)).filter((m) => !skip.has(m.connectionId));
      const byId = new Map(members.map((m) => [m.connectionId, m]));
      return pushAll([...byId.keys()], data, async (gone) => {
        await rooms().forget(
          room,
          gone.flatMap((id) => byId.get(id) ?? []),
        );
        return registry().removeMany(gone);
      });
    },
    async sendToUser(userId, data) {
      checkedFrame(data);
      const ids = await rooms().userConnections(userId);
      return pushAll(ids, data, async (gone) => {
        await rooms().removeUserConnections(userId, gone);
        return registry().removeMany(gone);
      });
    },
    get store() {
      return storeFor(registryConfig!);
    },
  };
}
