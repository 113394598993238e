/**
 * One WebSocket connection served in web mode, as one SCF instance serves it: its socket, its own
 * Redis client (commands and subscriptions on one RESP3 connection), the channels it listens on,
 * and what it is (record, user, rooms), which it writes to Redis and writes again whenever Redis
 * comes back.
 *
 * One Redis client per connection is what makes PUBLISH's receiver count a count of connections,
 * and it is what the platform does anyway (one instance, one connection).
 */
import { Redis } from 'ioredis';
import { WebSocket, type RawData } from 'ws';
import { ChatError, ErrNo, describeError } from '../../lib/errors';
import type { RoomsConfig } from '../../lib/config';
import type { PushFrame } from '../../lib/push-client';
import type { ConnectionRecord } from '../../lib/registry';
import type { User } from '../../lib/users';
import { loggerFor } from '../context';
import type { AppDefinition, Logger, Message } from '../types';
import { definePublish, parseBusMessage, publish, type BusMessage } from './bus';
import type { RedisAddress } from './config';
import { RedisHistory } from './history';
import type { RedisKeys } from './keys';
import { describeRedisError } from './redis-errors';
import { RedisState, type Snapshot } from './state';
import { RedisStore } from './store';

/** What a connection missed while it was away from Redis. */
export interface GapReport {
  connectionId: string;
  /** Messages published on its channels while it did not listen; undefined when Redis lost its counters (data lost) and it cannot be known. */
  missed: number | undefined;
  /** How long its Redis client was away (ms). */
  downMs: number;
  /** When it came back (ISO time). */
  at: string;
  /** What the connection was told: closed with 1012 so its client resumes, or kept open. */
  action: 'closed' | 'kept';
}

/** What a session reports to its server. */
export interface SessionEvents {
  reconnected(session: Session): void;
  gap(report: GapReport): void;
  ended(session: Session): void;
}

/** Settings every session of a server shares. */
export interface SessionSettings {
  app: AppDefinition;
  keys: RedisKeys;
  redis: RedisAddress;
  rooms: RoomsConfig;
  /** Life of a connection's record unless refreshed (s). */
  ttlSeconds: number;
  pingIntervalMs: number;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** Redis away this long closes the connection with 1011. */
  maxOutageMs: number;
  /** What a connection that missed messages is told. */
  onGap: 'close' | 'keep';
  events: SessionEvents;
}

/** The close code a connection that missed messages gets: Service Restart, so clients reconnect. */
export const GAP_CLOSE_CODE = 1012;
/** Internal failure. */
export const FAILURE_CLOSE_CODE = 1011;
/** Longest close reason the protocol allows, in bytes. */
const MAX_REASON_BYTES = 123;

function reasonOf(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > MAX_REASON_BYTES) reason = reason.slice(0, -2) + '…';
  return reason;
}

function bytesOf(data: RawData): Buffer {
  return Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** The 503 a handshake is refused with when Redis cannot be reached. */
export function redisUnavailable(address: RedisAddress, why: string): ChatError {
  return new ChatError(
    'REDIS_UNAVAILABLE',
    `Redis at ${address.host}:${address.port} is unreachable (${why}): the connection was not accepted and nothing was registered`,
    ErrNo.REGISTRY_UNAVAILABLE,
  );
}

/** One connection and its Redis client. */
export class Session {
  readonly log: Logger;
  readonly redis: Redis;
  readonly state: RedisState;
  readonly history: RedisHistory;
  readonly store: RedisStore;
  record: Snapshot['record'];
  /** Its rooms: room → joined by the client's request (not put there at connect). */
  readonly rooms = new Map<string, boolean>();
  socket: WebSocket | undefined;

  /** Channel → the room it is, for room channels. */
  readonly #roomOfChannel = new Map<string, string>();
  /** Channels listened on, and the last message number seen on each. */
  readonly #seqs = new Map<string, number | undefined>();
  /** Frames that arrived before the socket was open. */
  #early: PushFrame[] = [];
  #closeAsked = false;
  #queue: Promise<void> = Promise.resolve();
  #ended: Promise<void> | undefined;
  #alive = true;
  #pinger: NodeJS.Timeout | undefined;
  #lastRefresh = Date.now();
  #downSince: number | undefined;
  #outage: NodeJS.Timeout | undefined;
  #missedInStream = 0;
  #lastError: string | undefined;
  #opened = false;
  /** Resyncs run one after the other: Redis may drop and come back while one is under way. */
  #resyncs: Promise<void> = Promise.resolve();
  /**
   * Frames heard on the bus between reconnecting and knowing whether anything was missed. They are
   * newer than what was missed: sent on, they would carry the client's `since` past it, so they
   * wait for the verdict (sent when nothing was missed or the connection is kept, dropped when it
   * is closed to resume: the history has them).
   */
  #holding: Array<Parameters<Session['sendOwn']>[0]> | undefined;

  constructor(
    readonly id: string,
    user: User,
    record: Omit<ConnectionRecord, 'user'>,
    readonly settings: SessionSettings,
    readonly requestId?: string,
  ) {
    this.log = loggerFor('web', id);
    this.record = { ...record, user };
    const { redis } = settings;
    this.redis = new Redis({
      host: redis.host,
      port: redis.port,
      ...(redis.password ? { password: redis.password } : {}),
      lazyConnect: true,
      connectTimeout: settings.connectTimeoutMs,
      commandTimeout: settings.commandTimeoutMs,
      // Fail at once while Redis is away: the handler answers the client, rather than hanging.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // Resubscribed by hand, so the counters can be read right after (see resync).
      autoResubscribe: false,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), 2000),
      disableClientInfo: true,
    });
    this.state = new RedisState(this.redis, settings.keys, settings.ttlSeconds);
    this.history = new RedisHistory(this.redis, settings.keys);
    this.store = new RedisStore(this.redis, settings.keys);
  }

  get user(): User {
    return this.record.user;
  }

  get snapshot(): Snapshot {
    return { record: this.record, rooms: this.rooms };
  }

  /** Whether this connection's client listens on a channel. */
  listensTo(channel: string): boolean {
    return this.#seqs.has(channel);
  }

  /**
   * Connects to Redis. @throws ChatError `REDIS_UNAVAILABLE` (errNo 503) when it cannot, or when it
   * is older than Redis 6 (web mode needs RESP3: commands and subscriptions on one connection).
   */
  async open(): Promise<void> {
    const { redis: address } = this.settings;
    this.redis.on('error', (err: Error) => {
      const why = describeError(err);
      if (why !== this.#lastError && this.#opened) this.log.warn('Redis client error', { errMsg: why });
      this.#lastError = why;
    });
    try {
      await this.redis.connect();
    } catch (err) {
      this.redis.disconnect();
      throw redisUnavailable(address, this.#lastError ?? describeError(err));
    }
    if (this.redis.condition?.protocol !== 3) {
      this.redis.disconnect();
      throw redisUnavailable(address, 'it speaks only RESP2: web mode needs Redis 6 or later');
    }
    definePublish(this.redis);
    this.#opened = true;
    this.redis.on('messageBuffer', (channel: Buffer, message: Buffer) => this.#onBus(channel.toString('utf8'), message.toString('utf8')));
    this.redis.on('close', () => this.#onRedisLost());
    this.redis.on('ready', () => void (this.#resyncs = this.#resyncs.then(() => this.#resync())));
  }

  /** Listens on the connection's channels, then writes its keys. @throws ChatError (errNo 503) */
  async register(): Promise<void> {
    const { keys } = this.settings;
    const channels = [keys.connectionChannel(this.id), keys.userChannel(this.user.id), keys.allChannel];
    for (const room of this.rooms.keys()) channels.push(this.#roomChannel(room));
    try {
      await this.subscribe(channels);
    } catch (err) {
      throw redisUnavailable(this.settings.redis, describeRedisError(err));
    }
    await this.state.write(this.snapshot);
  }

  /** Takes back what {@link register} or `onConnect` wrote, for a handshake that is refused after all. */
  async undo(): Promise<void> {
    if (this.#opened) await this.state.remove(this.id, this.user.id, this.rooms.keys()).catch(() => undefined);
    this.#ended = Promise.resolve();
    this.redis.disconnect();
  }

  /**
   * Starts listening on channels. Their counters are read on the same connection right after the
   * SUBSCRIBE, so messages numbered up to what it reads were published before (or arrive before
   * the answer), and any later number that skips one is a message lost.
   */
  async subscribe(channels: string[]): Promise<void> {
    const fresh = channels.filter((c) => !this.#seqs.has(c));
    if (fresh.length === 0) return;
    for (const c of fresh) this.#seqs.set(c, undefined);
    try {
      const [, counts] = await Promise.all([this.redis.subscribe(...fresh), this.redis.mget(...fresh.map((c) => this.settings.keys.seq(c)))]);
      fresh.forEach((c, i) => {
        const counted = Number(counts[i] ?? 0);
        this.#seqs.set(c, Math.max(this.#seqs.get(c) ?? 0, counted));
      });
    } catch (err) {
      for (const c of fresh) this.#seqs.delete(c);
      throw err;
    }
  }

  /** Stops listening on a channel (its messages are dropped from now on, even if Redis still sends some). */
  async unsubscribe(channel: string): Promise<void> {
    this.#seqs.delete(channel);
    this.#roomOfChannel.delete(channel);
    await this.redis.unsubscribe(channel).catch((err: unknown) => this.log.warn('could not unsubscribe', { errMsg: describeRedisError(err) }));
  }

  /** Publishes on a channel; resolves with how many connections' clients received it. */
  publish(channel: string, message: BusMessage): Promise<number> {
    return publish(this.redis, this.settings.keys.seq(channel), channel, message);
  }

  /** Puts the connection in a room: it listens on the room's channel before its key is written. */
  async joinRoom(room: string, explicit: boolean): Promise<void> {
    const before = this.rooms.get(room);
    const kept = explicit || before === true;
    const channel = this.#roomChannel(room);
    const listened = this.listensTo(channel);
    this.rooms.set(room, kept);
    try {
      if (!listened) await this.subscribe([channel]);
      await this.state.join(this.id, room, this.user, kept);
    } catch (err) {
      if (before === undefined) this.rooms.delete(room);
      else this.rooms.set(room, before);
      if (!listened && before === undefined) await this.unsubscribe(channel);
      throw err;
    }
  }

  /** Takes the connection out of a room; returns how it was there, undefined when it was not. */
  async leaveRoom(room: string): Promise<{ explicit: boolean } | undefined> {
    const before = this.rooms.get(room);
    if (before === undefined) return undefined;
    // The key first: once it is gone the room no longer counts this connection.
    await this.state.leave(this.id, room);
    this.rooms.delete(room);
    await this.unsubscribe(this.#roomChannel(room));
    return { explicit: before };
  }

  /** Renames the user in its record and every room. */
  async rename(user: User): Promise<void> {
    const record = { ...this.record, user };
    await this.state.rename(record, this.rooms);
    this.record = record;
  }

  /** Sends to this connection's own socket. */
  sendOwn(frame: PushFrame): Promise<'delivered' | 'removed' | 'failed'> {
    const socket = this.socket;
    // Before the handshake completes (onConnect) the connection cannot be sent to, as in event mode.
    if (!socket) return Promise.resolve('failed');
    if (socket.readyState !== WebSocket.OPEN) return Promise.resolve('removed');
    const data = frame.dataType === 'binary' ? Buffer.from(frame.data, 'base64') : frame.data;
    return new Promise((resolve) => socket.send(data, { binary: frame.dataType === 'binary' }, (err) => resolve(err ? 'failed' : 'delivered')));
  }

  /** Takes over the upgraded socket: frames that arrived meanwhile go out, pings start. */
  attach(socket: WebSocket, handle: (message: Message) => Promise<void>): void {
    this.socket = socket;
    for (const frame of this.#early.splice(0)) void this.sendOwn(frame);
    socket.on('message', (data, isBinary) => {
      this.#alive = true;
      const bytes = bytesOf(data);
      const message: Message = isBinary ? { type: 'binary', data: bytes } : { type: 'text', text: bytes.toString('utf8') };
      this.#queue = this.#queue.then(() => handle(message)).catch((err: unknown) => this.fail(`internal failure: ${describeError(err)}`));
    });
    socket.on('pong', () => (this.#alive = true));
    socket.on('error', (err) => this.log.warn('socket error', { errMsg: describeError(err) }));
    this.#pinger = setInterval(() => this.#ping(), this.settings.pingIntervalMs);
    this.#pinger.unref();
    if (this.#closeAsked) socket.close(1000);
  }

  /** Closes the connection with 1011 for a failure of ours; its disconnect then runs. */
  fail(reason: string): void {
    this.log.error('closing: internal failure', { reason });
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.close(FAILURE_CLOSE_CODE, reasonOf(reason));
    else this.socket?.terminate();
  }

  /**
   * Ends the session once its socket closed: waits for the frame being handled, runs `cleanup`
   * (with Redis, waited for up to `maxOutageMs`), then lets its Redis client go. Runs once.
   */
  end(cleanup: () => Promise<void>): Promise<void> {
    this.#ended ??= (async () => {
      clearInterval(this.#pinger);
      await this.#queue;
      try {
        if (await this.#whenReady(this.settings.maxOutageMs)) await cleanup();
        else this.log.error('disconnect not cleaned up: Redis stayed unreachable; its keys expire or are pruned', { errMsg: this.#lastError });
      } catch (err) {
        this.log.error('disconnect failed', { errMsg: describeError(err) });
      } finally {
        clearTimeout(this.#outage);
        await this.redis.quit().catch(() => this.redis.disconnect());
        this.settings.events.ended(this);
      }
    })();
    return this.#ended;
  }

  #roomChannel(room: string): string {
    const channel = this.settings.keys.roomChannel(room);
    this.#roomOfChannel.set(channel, room);
    return channel;
  }

  #onBus(channel: string, raw: string): void {
    const parsed = parseBusMessage(raw);
    if (!parsed || !this.#seqs.has(channel)) return;
    const last = this.#seqs.get(channel);
    if (last !== undefined && parsed.seq > last + 1) this.#missedInStream += parsed.seq - last - 1;
    this.#seqs.set(channel, last === undefined ? parsed.seq : Math.max(last, parsed.seq));
    // A room left a moment ago may still send until the UNSUBSCRIBE is done.
    const room = this.#roomOfChannel.get(channel);
    if (room !== undefined && !this.rooms.has(room)) return;
    const { message } = parsed;
    if (message.kind === 'close') {
      if (this.socket) this.socket.close(1000);
      else this.#closeAsked = true;
      return;
    }
    if (message.except?.includes(this.id)) return;
    if (this.#holding) this.#holding.push(message.frame);
    else if (!this.socket) this.#early.push(message.frame);
    else void this.sendOwn(message.frame);
  }

  #onRedisLost(): void {
    if (this.#ended || this.#downSince !== undefined) return;
    this.#downSince = Date.now();
    this.log.warn('Redis connection lost: reconnecting', { errMsg: this.#lastError });
    const ms = this.settings.maxOutageMs;
    this.#outage = setTimeout(() => this.fail(`Redis unreachable for ${ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`}`), ms);
    this.#outage.unref();
  }

  /**
   * Back on Redis: listens on every channel again, reads their counters (what was published while
   * away is the difference), writes the connection's keys again (a broadcast meanwhile may have
   * pruned them, and Redis may have lost them), and reports the gap.
   */
  async #resync(): Promise<void> {
    if (this.#ended || this.#downSince === undefined) return;
    const downMs = Date.now() - this.#downSince;
    this.#holding ??= [];
    const channels = [...this.#seqs.keys()];
    let missed = 0;
    let uncounted = false;
    try {
      const [, counts] = await Promise.all([
        channels.length > 0 ? this.redis.subscribe(...channels) : Promise.resolve(0),
        channels.length > 0 ? this.redis.mget(...channels.map((c) => this.settings.keys.seq(c))) : Promise.resolve([]),
      ]);
      channels.forEach((c, i) => {
        if (!this.#seqs.has(c)) return;
        const now = Number(counts[i] ?? 0);
        const last = this.#seqs.get(c) ?? 0;
        if (now > last) missed += now - last;
        else if (now < last) uncounted = true;
        this.#seqs.set(c, now);
      });
      await this.state.write(this.snapshot);
    } catch (err) {
      // Lost again, or a command failed: the next `ready` tries again; the outage timer still runs.
      this.log.warn('resync after reconnect failed', { errMsg: describeRedisError(err) });
      return;
    }
    missed += this.#missedInStream;
    this.#missedInStream = 0;
    this.#downSince = undefined;
    clearTimeout(this.#outage);
    this.settings.events.reconnected(this);
    const held = this.#holding ?? [];
    this.#holding = undefined;
    const flush = () => {
      for (const frame of held) {
        if (this.socket) void this.sendOwn(frame);
        else this.#early.push(frame);
      }
    };
    if (missed === 0 && !uncounted) {
      this.log.info('Redis reconnected', { downMs, missed: 0 });
      flush();
      return;
    }
    const close = this.settings.onGap === 'close' && this.socket?.readyState === WebSocket.OPEN;
    if (!close) flush();
    const report: GapReport = {
      connectionId: this.id,
      missed: uncounted ? undefined : missed,
      downMs,
      at: new Date().toISOString(),
      action: close ? 'closed' : 'kept',
    };
    this.log.warn('messages published while Redis was unreachable were missed', {
      missed: report.missed ?? 'unknown (Redis lost its counters)',
      downMs,
      channels: channels.length,
      action: report.action,
    });
    this.settings.events.gap(report);
    if (close) {
      const what = uncounted ? 'an unknown number of messages' : `${missed} message${missed === 1 ? '' : 's'}`;
      this.socket!.close(GAP_CLOSE_CODE, reasonOf(`missed ${what} while Redis was unreachable: reconnect and resume with since`));
    }
  }

  async #whenReady(timeoutMs: number): Promise<boolean> {
    if (this.redis.status === 'ready' && this.#downSince === undefined) return true;
    if (this.redis.status === 'end') return false;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.redis.once('ready', onReady);
    });
  }

  #ping(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (!this.#alive) {
      this.log.info('no pong since the last ping: closing the connection');
      socket.terminate();
      return;
    }
    this.#alive = false;
    socket.ping();
    if (Date.now() - this.#lastRefresh >= (this.settings.ttlSeconds * 1000) / 3 && this.redis.status === 'ready' && this.#downSince === undefined) {
      this.#lastRefresh = Date.now();
      void this.state
        .refresh(this.id)
        .then((had) => (had ? undefined : this.state.write(this.snapshot)))
        .catch((err: unknown) => this.log.warn('could not refresh the connection’s keys', { errMsg: describeRedisError(err) }));
    }
  }
}
