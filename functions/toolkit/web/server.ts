/**
 * `serveWeb(app)`: the app of `defineApp(...)` served by a plain `ws` server, as an SCF web
 * function runs it (web-function mode: the platform hands the socket itself to the function).
 *
 * The handshake is event mode's: the subprotocol and the admission token are negotiated as
 * register does (functions/lib/handshake.ts), `onConnect` may refuse, and the connection is put in
 * the app's lobby. A refusal is an HTTP answer before any upgrade, with the reason as its body:
 * 503 when Redis cannot be reached, 403 for everything else (as the gateway answers a refusing
 * register), and nothing is left registered.
 */
import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { readAdmissionSecret, readRoomsConfig } from '../../lib/config';
import { ChatError, ErrNo, describeError } from '../../lib/errors';
import { negotiate, parseOffer } from '../../lib/handshake';
import { MAX_PUSH_BYTES } from '../../lib/limits';
import { log } from '../../lib/log';
import { checkedRoom } from '../../lib/rooms';
import { guestOf } from '../../lib/users';
import { codeOf } from '../errors';
import type { AppDefinition, ConnectContext, Message } from '../types';
import { readPingIntervalMs, readRedisAddress, readWebPort, type RedisAddress } from './config';
import { WebContext } from './context';
import { RedisKeys } from './keys';
import { Session, type GapReport, type SessionSettings } from './session';

/** What serveWeb serves: an app from `defineApp(...)`, or its definition. */
export type WebApp = { readonly definition: AppDefinition } | AppDefinition;

export interface WebServerOptions {
  /** @default `PORT`, else 9000 (0 picks a free port) */
  port?: number;
  /** @default 0.0.0.0 */
  host?: string;
  /** Where the settings are read from (`REDIS_*`, `ADMISSION_*`, `HISTORY_SIZE`, …). @default process.env */
  env?: Record<string, string | undefined>;
  /** @default from `REDIS_HOST`, `REDIS_PORT`, `REDIS_PASSWORD` */
  redis?: RedisAddress;
  /** Put before every Redis key and channel, to share one Redis between apps. @default '' */
  prefix?: string;
  /** @default a third of `IDLE_TIMEOUT_SECONDS` (600 s by default), at most 30 s */
  pingIntervalMs?: number;
  /** How long a handshake waits for Redis before answering 503. @default 3000 */
  connectTimeoutMs?: number;
  /** Deadline of one Redis command. @default 5000 */
  commandTimeoutMs?: number;
  /** Redis away this long closes each connection with 1011 (its clients reconnect, and get 503 until it is back). @default 60000 */
  maxOutageMs?: number;
  /**
   * A connection that missed messages while Redis was away is closed with 1012 (`close`), so its
   * client reconnects and resumes each room with `since`; `keep` leaves it open (the gap is still
   * logged and counted). @default 'close'
   */
  onGap?: 'close' | 'keep';
}

/** What a server did since it started. */
export interface WebServerStats {
  /** Open connections. */
  connections: number;
  accepted: number;
  /** Refused handshakes, by HTTP status. */
  refused: Record<number, number>;
  /** Times a connection's Redis client came back after losing Redis. */
  reconnects: number;
  /** Messages published on connections' channels while they were away from Redis (counted gaps only). */
  missed: number;
  /** Gaps whose loss could not be counted: Redis came back without its counters (its data was lost). */
  uncounted: number;
  /** The last 100 gaps. */
  gaps: GapReport[];
}

export interface WebServer {
  readonly port: number;
  /** `ws://127.0.0.1:<port>/` (or the host it listens on). */
  readonly url: string;
  stats(): WebServerStats;
  /** Stops accepting, closes every connection (1001) and waits for their disconnects. */
  close(): Promise<void>;
}

const CONNECTION_ID_BYTES = 18;

function definitionOf(app: WebApp): AppDefinition {
  return 'definition' in app && typeof app.definition === 'object' ? app.definition : (app as AppDefinition);
}

/** Answers a handshake with an HTTP status and a text body, and closes. */
function refuse(socket: Duplex, status: number, body: string): void {
  if (socket.destroyed) return;
  const bytes = Buffer.from(body, 'utf8');
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The client's address: the first X-Forwarded-For hop when a proxy (the gateway) put one, else the socket's. */
function sourceIpOf(req: IncomingMessage): string | undefined {
  const forwarded = req.headers['x-forwarded-for'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return first || req.socket.remoteAddress || undefined;
}

/**
 * Serves an app over WebSocket with rooms, presence, history and sends across instances on
 * Redis pub/sub. Resolves once listening.
 * @throws ChatError `MISCONFIGURED` naming a missing or bad variable (`REDIS_HOST`, `PORT`, …)
 */
export async function serveWeb(app: WebApp, options: WebServerOptions = {}): Promise<WebServer> {
  const definition = definitionOf(app);
  if (definition.lobby !== undefined) checkedRoom(definition.lobby);
  const env = options.env ?? process.env;
  const pingIntervalMs = options.pingIntervalMs ?? readPingIntervalMs(env);
  const stats: WebServerStats = { connections: 0, accepted: 0, refused: {}, reconnects: 0, missed: 0, uncounted: 0, gaps: [] };
  const sessions = new Set<Session>();
  const settings: SessionSettings = {
    app: definition,
    keys: new RedisKeys(options.prefix ?? ''),
    redis: options.redis ?? readRedisAddress(env),
    rooms: readRoomsConfig(env),
    // A record outlives three missed refreshes, and at least a minute.
    ttlSeconds: Math.max(60, Math.ceil((pingIntervalMs * 3) / 1000)),
    pingIntervalMs,
    connectTimeoutMs: options.connectTimeoutMs ?? 3000,
    commandTimeoutMs: options.commandTimeoutMs ?? 5000,
    maxOutageMs: options.maxOutageMs ?? 60_000,
    onGap: options.onGap ?? 'close',
    events: {
      reconnected: () => void (stats.reconnects += 1),
      gap: (report) => {
        if (report.missed === undefined) stats.uncounted += 1;
        else stats.missed += report.missed;
        stats.gaps = [...stats.gaps, report].slice(-100);
      },
      ended: (session) => {
        if (sessions.delete(session)) stats.connections = sessions.size;
      },
    },
  };

  const chosen = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_PUSH_BYTES,
    // Negotiated before the upgrade (see accept): the protocol chosen then is the one answered.
    handleProtocols: (_offered, req) => chosen.get(req) ?? false,
  });

  const refused = (socket: Duplex, status: number, reason: string, id?: string) => {
    stats.refused[status] = (stats.refused[status] ?? 0) + 1;
    log(status >= 500 ? 'error' : 'warn', 'web', 'refused', { ...(id ? { id } : {}), status, errMsg: reason });
    refuse(socket, status, reason);
  };

  const accept = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const offer = req.headers['sec-websocket-protocol'];
    let handshake: ReturnType<typeof negotiate>;
    try {
      handshake = negotiate(offer, readAdmissionSecret(env), Date.now(), definition.protocols ?? []);
    } catch (err) {
      return refused(socket, 403, describeError(err));
    }
    const id = randomBytes(CONNECTION_ID_BYTES).toString('base64url');
    const user = handshake.user ?? guestOf(id);
    const requestId = req.headers['x-scf-request-id'];
    const session = new Session(
      id,
      user,
      {
        id,
        connectedAt: new Date().toISOString(),
        sourceIp: sourceIpOf(req),
        ...(handshake.protocol ? { protocol: handshake.protocol } : {}),
        ...(handshake.expiresAt ? { claims: { expiresAt: handshake.expiresAt.toISOString() } } : {}),
      },
      settings,
      typeof requestId === 'string' ? requestId : undefined,
    );
    try {
      await session.open();
    } catch (err) {
      return refused(socket, 503, describeError(err), id);
    }
    try {
      const ctx: ConnectContext = Object.assign(new WebContext(session), {
        protocol: handshake.protocol,
        claims: handshake.expiresAt ? { expiresAt: handshake.expiresAt, ...(handshake.user ? { user: handshake.user } : {}) } : undefined,
        sourceIp: session.record.sourceIp,
        offered: parseOffer(offer),
      });
      await definition.onConnect?.(ctx);
      if (definition.lobby) session.rooms.set(definition.lobby, session.rooms.get(definition.lobby) ?? false);
      // Listening before the keys are written: a connection Redis lists always hears what is sent to it.
      await session.register();
    } catch (err) {
      await session.undo();
      const status = err instanceof ChatError && err.errNo === ErrNo.REGISTRY_UNAVAILABLE ? 503 : 403;
      return refused(socket, status, describeError(err), id);
    }
    if (socket.destroyed) {
      // The client left during the handshake: nothing of it stays.
      await session.undo();
      return;
    }
    if (handshake.protocol) chosen.set(req, handshake.protocol);
    wss.handleUpgrade(req, socket, head, (ws) => {
      sessions.add(session);
      stats.accepted += 1;
      stats.connections = sessions.size;
      session.log.info('connected', { protocol: handshake.protocol, user: user.verified ? user.id : undefined });
      ws.once('close', (code) => void session.end(() => disconnect(session, code)));
      session.attach(ws, (message) => handleMessage(session, message));
    });
  };

  const handleMessage = async (session: Session, message: Message): Promise<void> => {
    const ctx = new WebContext(session);
    try {
      await definition.onMessage?.(ctx, message);
    } catch (err) {
      // Answered to the sender, as event mode does; the connection stays open.
      const text = describeError(err);
      ctx.log.warn('not handled', { errMsg: text });
      const reply = definition.errorMessage
        ? definition.errorMessage({ code: codeOf(err), message: text })
        : { type: 'error', code: codeOf(err), message: text };
      if (reply === undefined) return;
      try {
        await ctx.send(ctx.connectionId, reply);
      } catch (sendErr) {
        ctx.log.warn('could not tell the sender', { errMsg: describeError(sendErr) });
      }
    }
  };

  const disconnect = async (session: Session, code: number): Promise<void> => {
    const rooms = [...session.rooms].map(([room, explicit]) => ({ room, explicit }));
    const user = session.user;
    // Out of every room, its user's set and the registry first, then the rooms are told.
    await session.state.remove(session.id, user.id, session.rooms.keys());
    session.rooms.clear();
    const ctx = new WebContext(session);
    await ctx.announceLeaves(rooms, user);
    session.log.info('disconnected', { code, rooms: rooms.length });
    if (definition.onDisconnect) {
      try {
        await definition.onDisconnect(ctx);
      } catch (err) {
        session.log.error('onDisconnect failed', { errMsg: describeError(err) });
      }
    }
  };

  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' });
    res.end('a WebSocket server: connect with a WebSocket client\n');
  });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined);
    accept(req, socket, head).catch((err: unknown) => refused(socket, 500, `internal failure: ${describeError(err)}`));
  });

  const port = options.port ?? readWebPort(env);
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  log('info', 'web', 'listening', { port: bound, redis: `${settings.redis.host}:${settings.redis.port}`, pingIntervalMs });

  return {
    port: bound,
    url: `ws://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${bound}/`,
    stats: () => ({ ...stats, refused: { ...stats.refused }, gaps: [...stats.gaps] }),
    async close() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      // The close handler ends each session too; whichever comes first runs its disconnect once.
      const ending = [...sessions].map((s) => {
        s.socket?.close(1001, 'server shutting down');
        return s.end(() => disconnect(s, 1001));
      });
      await Promise.all(ending);
      wss.close();
      await closing;
    },
  };
}

/**
 * The web bundle's entry: serves the app on `PORT`, exits on SIGTERM/SIGINT once its connections
 * are closed, and exits 1 with a log line when it cannot start.
 */
export function runWebFunction(app: WebApp): void {
  serveWeb(app).then(
    (served) => {
      const stop = () => void served.close().then(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    },
    (err: unknown) => {
      log('error', 'web', 'could not start', { errMsg: describeError(err) });
      process.exit(1);
    },
  );
}

export type { GapReport };
