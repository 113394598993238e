/**
 * API Gateway's WebSocket side, on one machine. In event-function mode it holds the clients'
 * WebSockets, turns their lives into register / transport / cleanup invocations through an
 * {@link Invoker}, and serves the reverse-push address on the same port. For an API whose backend
 * is a web function (function type HTTP), it passes each connection through to an instance of its
 * own instead (web-proxy.ts, web-connection.ts): no events, no push address.
 *
 * Refusals of a handshake (the upgrade never happens; the body is the reason, text/plain):
 * - register answered a non-zero errNo → 403 with its errMsg
 * - register failed (error, crash, not found), answered something without an errNo, or chose a
 *   subprotocol the client did not offer → 502; register timed out → 504
 * - the API has no register binding → 502; no released API at the path → 404
 * - the gateway is stopping → 503; a request that is no WebSocket handshake → 400 / 405
 * - web function: whatever the instance answers, as it answered; no instance could be started →
 *   502 (504 when it did not listen within its init timeout, 503 at the instance limit)
 *
 * Connection behaviour (ordering, cleanup on gateway-side closes, limits) is described in
 * connection.ts and limits.ts. Requests (handshakes and pushes) get `limits.headersTimeoutMs` for
 * their headers and `limits.requestTimeoutMs` in all, so a client trickling bytes is cut.
 * Log lines show connection ids shortened (`AbCdEf…`) unless `logFullIds` is set: the push address
 * has no authentication, so a full id in a shared log is enough to write to that client.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, isIPv6 } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { describeError } from '../coded-error';
import type { Invoker } from '../invoker';
import { ApiCatalog, type CatalogSnapshot, type Route } from './catalog';
import { readJsonFile, writePrivateJsonFile } from '../json-file';
import { CloseCode, GatewayConnection } from './connection';
import { GatewayError, GatewayErrorCode } from './errors';
import { connectingEvent, closingEvent, readRegisterAnswer } from './events';
import { isProblem, readHandshake, refuseHandshake } from './handshake';
import { type GatewayLimits, resolveLimits } from './limits';
import { type ApiDef, IDLE_TIMEOUT_RANGE, SHORT_TIMEOUT_FLOOR_SECONDS, type ServiceDef, isWebApi } from './model';
import { PushEndpoint, PushErrNo, answer } from './push-endpoint';
import type { WebBackend } from './web-backend';
import { WebConnection } from './web-connection';
import { relayHandshake } from './web-proxy';
import { Listener, listen } from '../listen';

export interface LocalGatewayOptions {
  /** Address to bind; default 127.0.0.1 (loopback only: the push address has no authentication). */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  invoker: Invoker;
  /** Starts web-function instances, for APIs whose backend is one (the local SCF runtime). Without it such APIs answer 502. */
  web?: WebBackend;
  limits?: Partial<GatewayLimits>;
  /** One line per connection event (connect, refuse, close, failures); nothing per frame or push. Default: stdout. */
  log?: (line: string) => void;
  /**
   * Accept idle timeouts (`serviceTimeout`, `limits.idleTimeoutSeconds`) and `limits.maxConnectionSeconds`
   * below the cloud's 10 s floor, down to 0.1 s. For tests and demos only: such an API could not be deployed.
   */
  allowShortTimeouts?: boolean;
  /** How long stop() waits for connections to close and their cleanups to end. Default 5000 ms. */
  stopTimeoutMs?: number;
  /** Log connection ids whole. Default: their first 6 characters and `…` (see {@link logId}). */
  logFullIds?: boolean;
  /**
   * A file that keeps the services, APIs and releases across restarts, as the cloud keeps them:
   * loaded by the constructor when present, rewritten after every change. Default: nothing kept.
   */
  stateFile?: string;
}

/** A connection id: 24 random bytes in base64, 32 characters that may contain `+`, `/` and `=`. */
export function newConnectionId(): string {
  return randomBytes(24).toString('base64');
}

/** A connection id as log lines show it by default: its first 6 characters and `…`. */
export function logId(id: string): string {
  return id.length > 6 ? `${id.slice(0, 6)}…` : id;
}

/** Closed ids remembered so a push to one says "closed" rather than "unknown". */
const REMEMBERED_CLOSED_IDS = 10_000;
/** How long a client may take to answer a close frame when the gateway stops, before its socket is cut. */
const STOP_CLOSE_GRACE_MS = 1000;

export class LocalGateway {
  readonly #host: string;
  readonly #requestedPort: number;
  readonly #invoker: Invoker;
  readonly #web: WebBackend | undefined;
  readonly #limits: GatewayLimits;
  readonly #log: (line: string) => void;
  readonly #logId: (id: string) => string;
  readonly #stopTimeoutMs: number;
  readonly #catalog: ApiCatalog;
  readonly #push: PushEndpoint;
  readonly #open = new Map<string, GatewayConnection>();
  /** Connections passed through to web functions. */
  readonly #webOpen = new Map<string, WebConnection>();
  readonly #closedIds = new Set<string>();
  /** Connections and handshakes not yet finished (cleanup included), for stop() to await. */
  readonly #pending = new Set<Promise<void>>();
  /** The subprotocol register chose, per handshake request, for ws's handleProtocols. */
  readonly #chosenProtocol = new WeakMap<IncomingMessage, string>();
  readonly #listener = new Listener({ open: () => this.#listen(), close: (server) => this.#close(server) });
  /** The server listening and its WebSocket side, from open until closed. */
  #server: Server | undefined;
  #wss: WebSocketServer | undefined;
  /** Set while the connections are being closed: handshakes are then refused with 503. */
  #closing = false;
  readonly #stateFile: string | undefined;

  constructor(options: LocalGatewayOptions) {
    if (!options?.invoker) throw new GatewayError(GatewayErrorCode.INVALID_PARAMETER, 'LocalGateway needs an invoker');
    const minTimeout = options.allowShortTimeouts ? SHORT_TIMEOUT_FLOOR_SECONDS : IDLE_TIMEOUT_RANGE.min;
    this.#host = options.host ?? '127.0.0.1';
    this.#requestedPort = options.port ?? 0;
    this.#invoker = options.invoker;
    this.#web = options.web;
    this.#limits = resolveLimits(options.limits, minTimeout);
    this.#log = options.log ?? ((line) => console.log(`[local gateway] ${line}`));
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 5000;
    this.#logId = options.logFullIds ? (id) => id : logId;
    this.#catalog = new ApiCatalog(minTimeout);
    this.#stateFile = options.stateFile;
    if (this.#stateFile) {
      const saved = readJsonFile<CatalogSnapshot>(this.#stateFile);
      if (saved) this.#catalog.restore(saved);
    }
    this.#push = new PushEndpoint(
      {
        find: (id) => this.#open.get(id),
        wasClosed: (id) => this.#closedIds.has(id),
      },
      { maxMessageBytes: this.#limits.maxMessageBytes, maxBytesInFlight: this.#limits.maxPushBytesInFlight },
    );
  }

  /** The limits in force. */
  get limits(): Readonly<GatewayLimits> {
    return this.#limits;
  }

  /** The port listened on. @throws GatewayError `ERR_NOT_STARTED` before start(). */
  get port(): number {
    const port = this.#listener.port;
    if (port === undefined) throw new GatewayError(GatewayErrorCode.NOT_STARTED, 'the local gateway is not listening; call start() first');
    return port;
  }

  /** The address listened on, as the server reports it. @throws GatewayError `ERR_NOT_STARTED` before start(). */
  get address(): AddressInfo {
    const address = this.#server?.address();
    if (!address || typeof address !== 'object') throw new GatewayError(GatewayErrorCode.NOT_STARTED, 'the local gateway is not listening; call start() first');
    return address;
  }

  /** `http://127.0.0.1:PORT`. */
  get origin(): string {
    const host = this.#host === '0.0.0.0' ? '127.0.0.1' : this.#host === '::' ? '::1' : this.#host;
    return `http://${isIPv6(host) ? `[${host}]` : host}:${this.port}`;
  }

  /**
   * Listens. Concurrent calls share one listen; a call during stop() listens again once the stop
   * has ended. @throws GatewayError `EADDRINUSE` when the port is taken.
   */
  start(): Promise<void> {
    return this.#listener.start();
  }

  /**
   * Closes every connection with 1001, waits (at most `stopTimeoutMs`) for their cleanup
   * invocations, and stops listening. Safe to call twice, or before start(); a call during
   * start() stops what that start opens.
   */
  stop(): Promise<void> {
    return this.#listener.stop();
  }

  async #listen(): Promise<{ server: Server; port: number }> {
    const { headersTimeoutMs, requestTimeoutMs } = this.#limits;
    const server = createServer(
      {
        headersTimeout: headersTimeoutMs,
        requestTimeout: requestTimeoutMs,
        // Node checks these timeouts every 30 s by default, which would let a trickler stay that long.
        connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
      },
      (req, res) => this.#onRequest(req, res),
    );
    // Push clients keep sockets for many broadcasts; Node's 5 s default would race their reuse.
    server.keepAliveTimeout = 65_000;
    const wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: this.#limits.maxMessageBytes,
      autoPong: true,
      handleProtocols: (_offered, req) => this.#chosenProtocol.get(req) ?? false,
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const handshake = this.#onUpgrade(req, socket, head, wss).catch((err: unknown) => {
        this.#log(`handshake failed: ${describeError(err)}`);
        refuseHandshake(socket, 500, 'the local gateway failed');
      });
      this.#track(handshake);
    });
    const port = await listen(
      server,
      this.#requestedPort,
      this.#host,
      (message, cause) => new GatewayError(GatewayErrorCode.ADDRESS_IN_USE, message, { cause }),
    );
    server.on('error', (err) => this.#log(`server error: ${err.message}`));
    this.#server = server;
    this.#wss = wss;
    return { server, port };
  }

  /** The stop itself: upgraded sockets are not the HTTP server's to close, so they go first. */
  async #close(server: Server): Promise<void> {
    this.#closing = true;
    try {
      const listening = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const connection of this.#open.values()) connection.close(CloseCode.GOING_AWAY, 'gateway stopping');
      for (const connection of this.#webOpen.values()) connection.close(CloseCode.GOING_AWAY, 'gateway stopping');
      const cut = setTimeout(() => {
        for (const connection of this.#open.values()) connection.terminate();
        for (const connection of this.#webOpen.values()) connection.terminate();
      }, STOP_CLOSE_GRACE_MS);
      const everything = Promise.allSettled([...this.#pending]);
      const gaveUp = await raceTimeout(everything, this.#stopTimeoutMs);
      clearTimeout(cut);
      if (gaveUp) this.#log(`stopped without waiting for ${this.#pending.size} connection(s) or cleanup(s) still running`);
      for (const connection of this.#open.values()) connection.terminate();
      for (const connection of this.#webOpen.values()) connection.terminate();
      server.closeAllConnections();
      await raceTimeout(listening, 1000);
      this.#wss?.close();
    } finally {
      this.#closing = false;
      this.#server = undefined;
      this.#wss = undefined;
    }
  }

  /** Cloud API CreateService. */
  createService(def: ServiceDef): void {
    this.#catalog.createService(def);
    this.#save();
  }

  /** Cloud API ModifyService: name and protocol (the rest is not modelled). */
  modifyService(def: ServiceDef): void {
    this.#catalog.modifyService(def);
    this.#save();
  }

  /** Cloud API DeleteService. @throws GatewayError `ResourceInUse` while it has APIs or releases. */
  deleteService(serviceId: string): void {
    this.#catalog.deleteService(serviceId);
    this.#save();
  }

  /** Cloud API DescribeService. */
  describeService(serviceId: string): ServiceDef | undefined {
    return this.#catalog.service(serviceId);
  }

  /** Cloud API CreateApi: a draft until the service is released. */
  createApi(def: ApiDef): void {
    this.#catalog.createApi(def);
    this.#save();
  }

  /** Cloud API ModifyApi: replaces the draft; live environments change only on release. */
  modifyApi(apiId: string, def: ApiDef): void {
    this.#catalog.modifyApi(apiId, def);
    this.#save();
  }

  /** Cloud API DeleteApi: the draft goes; what is released keeps serving until the next release. */
  deleteApi(apiId: string): void {
    this.#catalog.deleteApi(apiId);
    this.#save();
  }

  /**
   * Cloud API DescribeApi: the draft, with the reverse-push address as `internalDomain` (empty for
   * an API backed by a web function, which has none).
   * @throws GatewayError `ERR_NOT_STARTED` before start(): the address holds the port.
   */
  describeApi(apiId: string): (ApiDef & { internalDomain: string }) | undefined {
    const draft = this.#catalog.draft(apiId);
    return draft && { ...draft, internalDomain: this.pushUrl(apiId) };
  }

  /**
   * Cloud API ReleaseService: publishes the service's current API definitions to the environment.
   * New connections use that snapshot; open ones keep working and use the new bindings from
   * their next frame (their idle timeout stays the one they connected with). @throws GatewayError `ResourceInUse.RouteConflict` when another service
   * already serves one of the paths in that environment.
   */
  releaseService(serviceId: string, environment: string, description?: string): void {
    this.#catalog.release(serviceId, environment, description);
    this.#save();
    this.#log(`released service ${serviceId} to ${environment}${description ? ` (${description})` : ''}`);
  }

  /** Cloud API UnReleaseService: new connections to the environment find nothing (404). */
  unreleaseService(serviceId: string, environment: string): void {
    this.#catalog.unrelease(serviceId, environment);
    this.#save();
    this.#log(`unreleased service ${serviceId} from ${environment}`);
  }

  /** Whether the service is released to the environment. */
  isReleased(serviceId: string, environment: string): boolean {
    return this.#catalog.isReleased(serviceId, environment);
  }

  #save(): void {
    if (this.#stateFile) writePrivateJsonFile(this.#stateFile, this.#catalog.snapshot());
  }

  /** `ws://127.0.0.1:PORT/<environment><path>` of a service's API (its first one unless `apiId` is given). */
  wsUrl(serviceId: string, environment: string, apiId?: string): string {
    return `${this.origin.replace(/^http/, 'ws')}/${environment}${this.#catalog.pathFor(serviceId, environment, apiId)}`;
  }

  /**
   * The reverse-push address of an API, what DescribeApi calls `InternalDomain`; empty for an API
   * whose backend is a web function (its instances hold their sockets themselves).
   */
  pushUrl(apiId: string): string {
    if (!this.#catalog.hasApi(apiId)) throw new GatewayError(GatewayErrorCode.API_NOT_FOUND, `no API ${apiId}`);
    const draft = this.#catalog.draft(apiId);
    if (draft && isWebApi(draft)) return '';
    return `${this.origin}${ApiCatalog.pushPathOf(apiId)}`;
  }

  /** Push requests waiting, unread, for room under `maxPushBytesInFlight`. */
  pushesWaiting(): number {
    return this.#push.waiting;
  }

  /** Open connections, event-mode and web-function ones. */
  connections(): number {
    return this.#open.size + this.#webOpen.size;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const pathname = pathOf(req.url);
    if (pathname.startsWith('/api-')) {
      const apiId = this.#catalog.apiOfPushPath(pathname);
      const draft = apiId === undefined ? undefined : this.#catalog.draft(apiId);
      if (apiId !== undefined && draft && isWebApi(draft)) {
        req.resume();
        answer(res, 404, PushErrNo.UNKNOWN_API, `API ${apiId} is backed by a web function: it has no reverse-push address`);
        return;
      }
      if (apiId !== undefined) {
        this.#push.handle(req, res, apiId);
        return;
      }
      req.resume();
      answer(res, 404, PushErrNo.UNKNOWN_API, `no API at ${pathname}`);
      return;
    }
    req.resume();
    if (this.#catalog.route(pathname)) {
      res.setHeader('upgrade', 'websocket');
      answer(res, 426, PushErrNo.MALFORMED_REQUEST, `${pathname} is a WebSocket API: connect with a WebSocket client`);
      return;
    }
    answer(res, 404, PushErrNo.UNKNOWN_API, `nothing at ${pathname}`);
  }

  async #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, wss: WebSocketServer): Promise<void> {
    // Until ws takes the socket over, its errors (a client resetting) are ours to swallow.
    const swallow = () => undefined;
    socket.on('error', swallow);
    if (this.#closing) return refuseHandshake(socket, 503, 'the gateway is stopping');
    const offer = readHandshake(req);
    if (isProblem(offer)) return refuseHandshake(socket, offer.status, offer.reason);
    const pathname = pathOf(req.url);
    const route = this.#catalog.route(pathname);
    if (!route) return refuseHandshake(socket, 404, `no WebSocket API is released at ${pathname}`);
    const api = route.api;
    if (isWebApi(api)) return this.#onWebUpgrade(req, socket, head, route, pathname, swallow);
    if (!api.register) {
      return refuseHandshake(socket, 502, `API ${api.apiId} has no register function bound; the handshake cannot be decided`);
    }

    const id = newConnectionId();
    const requestId = randomUUID();
    const headers = { 'X-Api-RequestId': requestId };
    const event = connectingEvent({
      serviceId: route.serviceId,
      path: api.path,
      requestId,
      sourceIp: sourceIpOf(req),
      stage: route.environment,
      connectionId: id,
      protocolHeader: offer.protocolHeader,
      extensionsHeader: offer.extensionsHeader,
    });
    let result;
    try {
      result = await this.#invoker.invoke(api.register, event, { requestId });
    } catch (err) {
      result = { ok: false as const, kind: 'crash' as const, message: err instanceof Error ? err.message : String(err), durationMs: 0 };
    }
    const verdict = readRegisterAnswer(result, offer.protocols, api.register.name);
    if (!verdict.accept) {
      this.#log(`refused ${pathname.length > 200 ? `${pathname.slice(0, 200)}…` : pathname} with ${verdict.status}: ${verdict.reason}`);
      return refuseHandshake(socket, verdict.status, verdict.reason, headers);
    }
    // The client may have gone while register ran, or the gateway begun stopping: register has
    // accepted a connection that will never open, so cleanup is owed.
    if (this.#closing || socket.destroyed || !socket.readable || !socket.writable) {
      if (this.#closing) refuseHandshake(socket, 503, 'the gateway is stopping', headers);
      else socket.destroy();
      this.#log(`connection ${this.#logId(id)} accepted by register but gone before the handshake completed; invoking cleanup`);
      if (api.cleanup) await this.#invoker.invoke(api.cleanup, closingEvent(id)).catch(() => undefined);
      return;
    }
    if (verdict.protocol !== undefined) this.#chosenProtocol.set(req, verdict.protocol);
    socket.off('error', swallow);
    wss.handleUpgrade(req, socket, head, (ws) => this.#adopt(ws, id, route, verdict.protocol));
  }

  /** A connection to an API whose backend is a web function: an instance of its own, the handshake and frames passed through. */
  async #onWebUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, route: Route, pathname: string, swallow: () => void): Promise<void> {
    const api = route.api;
    const shown = pathname.length > 200 ? `${pathname.slice(0, 200)}…` : pathname;
    if (!this.#web) return refuseHandshake(socket, 502, `API ${api.apiId} is backed by a web function, and this gateway has no web-function runtime`);
    const id = newConnectionId();
    const requestId = randomUUID();
    const headers = { 'X-Api-RequestId': requestId };
    const opened = await this.#web.connect(api.scfFunction!, { requestId });
    if (!opened.ok) {
      const status = opened.kind === 'busy' ? 503 : opened.kind === 'timeout' ? 504 : 502;
      this.#log(`refused ${shown} with ${status}: ${opened.message}`);
      return refuseHandshake(socket, status, opened.message, headers);
    }
    const { session } = opened;
    const instance = session.socket;
    if (this.#closing || socket.destroyed || !socket.writable) {
      instance.destroy();
      session.end(this.#closing ? 439 : 456, this.#closing ? 'the gateway stopped during the handshake' : 'the client left before the handshake');
      if (this.#closing) refuseHandshake(socket, 503, 'the gateway is stopping', headers);
      else socket.destroy();
      return;
    }
    const query = req.url?.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    const outcome = await relayHandshake({
      req,
      client: socket,
      instance,
      // as the function sees it: the path below the environment
      target: (pathname.slice(route.environment.length + 1) || '/') + query,
      sourceIp: sourceIpOf(req),
      requestId,
      timeoutMs: this.#limits.requestTimeoutMs,
    });
    if (!outcome.accepted) {
      if (!outcome.relayed) {
        if (outcome.status === 499) socket.destroy();
        else refuseHandshake(socket, outcome.status, outcome.detail, headers);
      }
      instance.destroy();
      this.#log(`refused ${shown} with ${outcome.status}: ${outcome.detail}`);
      session.end(outcome.status === 499 ? 456 : outcome.status, outcome.detail);
      return;
    }
    socket.off('error', swallow);
    const idleSeconds = this.#limits.idleTimeoutSeconds ?? session.idleTimeoutSeconds;
    const connection = new WebConnection({
      id,
      logId: this.#logId(id),
      client: socket,
      instance,
      instanceHead: outcome.rest,
      clientHead: head,
      session,
      limits: this.#limits,
      idleTimeoutMs: idleSeconds * 1000,
      maxDurationMs: Math.min(session.timeoutSeconds, this.#limits.maxConnectionSeconds) * 1000,
      log: this.#log,
      onClosed: (c, code, status) => {
        this.#webOpen.delete(c.id);
        this.#log(`closed ${this.#logId(c.id)} with ${code} (function ${session.functionName}, status ${status})`);
      },
    });
    this.#webOpen.set(id, connection);
    this.#track(connection.finished);
    const protocol = outcome.protocol;
    this.#log(
      `connected ${this.#logId(id)} to /${route.environment}${api.path} (API ${api.apiId}, web function ${session.functionName}${protocol ? `, subprotocol ${protocol}` : ''})`,
    );
  }

  #adopt(ws: WebSocket, id: string, route: Route, protocol: string | undefined): void {
    const { serviceId, environment } = route;
    const apiId = route.api.apiId;
    const connection = new GatewayConnection(ws, {
      id,
      logId: this.#logId(id),
      serviceId,
      environment,
      apiId,
      protocol,
      limits: this.#limits,
      idleTimeoutMs: (this.#limits.idleTimeoutSeconds ?? route.api.serviceTimeout) * 1000,
      maxDurationMs: this.#limits.maxConnectionSeconds * 1000,
      invoker: this.#invoker,
      // A re-release changes the bindings; an API gone from the release keeps its last ones.
      api: () => this.#catalog.released(serviceId, environment, apiId) ?? route.api,
      log: this.#log,
      onClosed: (c, code, reason) => {
        this.#open.delete(c.id);
        this.#rememberClosed(c.id);
        this.#log(`closed ${this.#logId(c.id)} with ${code}${reason ? ` (${reason})` : ''}`);
      },
    });
    this.#open.set(id, connection);
    this.#track(connection.finished);
    this.#log(`connected ${this.#logId(id)} to /${environment}${route.api.path} (API ${apiId}${protocol ? `, subprotocol ${protocol}` : ''})`);
  }

  #track(promise: Promise<void>): void {
    this.#pending.add(promise);
    void promise.finally(() => this.#pending.delete(promise));
  }

  #rememberClosed(id: string): void {
    this.#closedIds.add(id);
    if (this.#closedIds.size > REMEMBERED_CLOSED_IDS) {
      // a Set iterates in insertion order: drop the oldest
      this.#closedIds.delete(this.#closedIds.values().next().value!);
    }
  }
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

function sourceIpOf(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Resolves true when `ms` passed first. */
async function raceTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), ms)));
  try {
    return await Promise.race([promise.then(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
