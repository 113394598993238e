/**
 * The Cloud API 3.0 calls a post-deploy step makes, served locally over HTTP to the unmodified
 * tencentcloud-sdk-nodejs, which reaches it with `profile.httpProfile.endpoint = '127.0.0.1:PORT'`
 * and `protocol = 'http://'` alone:
 * - apigateway 2018-08-08: DescribeApi, ModifyApi, ReleaseService, on a local gateway;
 * - scf 2018-04-16: GetFunction, UpdateFunctionConfiguration, on a local SCF runtime.
 *
 * Every request is authenticated with its TC3-HMAC-SHA256 signature against local credentials,
 * then routed by X-TC-Version (the product) and X-TC-Action: the SDK names the signing service
 * after the endpoint's first label, `127` for an IP, so neither host nor service can tell the
 * products apart. Answers are HTTP 200 with `{"Response": {…, "RequestId"}}`, errors included
 * (`{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`), as the cloud answers and as the
 * SDK turns into an exception whose `code` is the error code.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { isIPv6 } from 'node:net';
import type { LocalCredential } from '../credentials';
import { apiGatewayProduct } from './apigateway';
import type { ApiGatewayBackend, ScfBackend } from './backends';
import { CloudApiError, CloudApiErrorCode, toCloudApiError } from './errors';
import { FaultQueue, type FaultOptions } from './faults';
import { parseParams } from './params';
import type { ActionResult, Product } from './product';
import { scfProduct } from './scf';
import { DEFAULT_CLOCK_SKEW_SECONDS, verifyTc3 } from './signature';
import { Listener, listen } from '../listen';
import { readBody } from '../read-body';

export interface LocalCloudApiOptions {
  /** Address to bind; default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Key pairs whose signatures are accepted; one with a session token requires it in X-TC-Token. */
  credentials: LocalCredential[];
  gateway: ApiGatewayBackend;
  scf: ScfBackend;
  /** How far X-TC-Timestamp may be from this machine's clock. Default 300, as the cloud. */
  clockSkewSeconds?: number;
  /** How many GetFunction calls after UpdateFunctionConfiguration answered still report `Updating`. Default 0. */
  scfUpdatingPolls?: number;
  /** One line per call (action, outcome, time). Default: stdout. */
  log?: (line: string) => void;
  /** How long a client may take to send a request's headers before it is cut. Default {@link DEFAULT_HEADERS_TIMEOUT_MS}. */
  headersTimeoutMs?: number;
  /** How long a client may take to send a whole request, body included. Default {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  requestTimeoutMs?: number;
}

/**
 * Header and request timeouts: the SDK sends a request of a few KB at once, so a client still
 * sending after this long is stuck or trickling on purpose, and holds a connection meanwhile
 * (Node's own defaults are 60 s and 300 s).
 */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** The cloud takes bodies up to 10 MB. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** How long stop() lets requests in flight finish before cutting their connections. */
const STOP_GRACE_MS = 1000;

/** The local Cloud API server: authenticates, routes and answers calls; see the file comment. */
export class LocalCloudApi {
  readonly #host: string;
  readonly #requestedPort: number;
  readonly #credentials: readonly LocalCredential[];
  readonly #clockSkewSeconds: number;
  readonly #log: (line: string) => void;
  /** X-TC-Version → product. */
  readonly #products = new Map<string, Product>();
  readonly #calls = new Map<string, number>();
  readonly #faults = new FaultQueue();
  readonly #headersTimeoutMs: number;
  readonly #requestTimeoutMs: number;
  readonly #listener = new Listener({ open: () => this.#open(), graceMs: STOP_GRACE_MS });

  constructor(options: LocalCloudApiOptions) {
    if (!options?.gateway || !options.scf) throw new CloudApiError(CloudApiErrorCode.INVALID_ARGUMENT, 'LocalCloudApi needs a gateway and an scf backend');
    if (!options.credentials?.length)
      throw new CloudApiError(CloudApiErrorCode.INVALID_ARGUMENT, 'LocalCloudApi needs at least one credential to accept requests');
    for (const credential of options.credentials) {
      if (!credential.secretId || !credential.secretKey)
        throw new CloudApiError(CloudApiErrorCode.INVALID_ARGUMENT, 'every credential needs a non-empty secretId and secretKey');
    }
    const skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
    if (!Number.isFinite(skew) || skew < 0)
      throw new CloudApiError(CloudApiErrorCode.INVALID_ARGUMENT, `clockSkewSeconds must be a number from 0, got ${skew}`);
    const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
    const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    for (const [name, value] of [
      ['headersTimeoutMs', headersTimeout],
      ['requestTimeoutMs', requestTimeout],
    ] as const) {
      if (!Number.isFinite(value) || value <= 0)
        throw new CloudApiError(CloudApiErrorCode.INVALID_ARGUMENT, `${name} must be a number of milliseconds above 0, got ${value}`);
    }
    if (headersTimeout > requestTimeout) {
      throw new CloudApiError(
        CloudApiErrorCode.INVALID_ARGUMENT,
        `headersTimeoutMs (${headersTimeout}) must not exceed requestTimeoutMs (${requestTimeout}): the headers are part of the request`,
      );
    }
    this.#headersTimeoutMs = headersTimeout;
    this.#requestTimeoutMs = requestTimeout;
    this.#host = options.host ?? '127.0.0.1';
    this.#requestedPort = options.port ?? 0;
    this.#credentials = options.credentials.map((credential) => ({ ...credential }));
    this.#clockSkewSeconds = skew;
    this.#log = options.log ?? ((line) => console.log(`[local cloud api] ${line}`));
    for (const product of [
      apiGatewayProduct(options.gateway, this.#log),
      scfProduct(options.scf, { log: this.#log, updatingPolls: options.scfUpdatingPolls }),
    ]) {
      this.#products.set(product.version, product);
    }
  }

  /** The port listened on. @throws CloudApiError `ERR_NOT_STARTED` before start(). */
  get port(): number {
    const port = this.#listener.port;
    if (port === undefined) throw new CloudApiError(CloudApiErrorCode.NOT_STARTED, 'the local Cloud API is not listening; call start() first');
    return port;
  }

  /** `127.0.0.1:PORT`: what the SDK's `profile.httpProfile.endpoint` takes (with `protocol: 'http://'`). */
  get endpoint(): string {
    const host = this.#host === '0.0.0.0' ? '127.0.0.1' : this.#host === '::' ? '::1' : this.#host;
    return `${isIPv6(host) ? `[${host}]` : host}:${this.port}`;
  }

  /** Listens. @throws CloudApiError `EADDRINUSE` when the port is taken. */
  start(): Promise<void> {
    return this.#listener.start();
  }

  /** Stops listening and closes open connections. Safe to call twice, or before start(). */
  stop(): Promise<void> {
    return this.#listener.stop();
  }

  /**
   * Authenticated calls of `action` so far (every action without one), whatever they answered:
   * injected failures and refused parameters count too.
   */
  calls(action?: string): number {
    if (action !== undefined) return this.#calls.get(action) ?? 0;
    let total = 0;
    for (const count of this.#calls.values()) total += count;
    return total;
  }

  /**
   * Makes the next authenticated call(s) of `action` whose parameters `match` accepts answer
   * `code` instead of being served: for failures the local services cannot be made to produce,
   * such as `RequestLimitExceeded`, or UpdateFunctionConfiguration failing for one function.
   * Faults queue up and are used first come first served.
   * @throws CloudApiError `ERR_INVALID_ARGUMENT` for an action not served here, or a bad code or `times`.
   */
  failNext(action: string, options: FaultOptions): void {
    const served = [...this.#products.values()].some((product) => Object.hasOwn(product.actions, action));
    if (!served) {
      throw new CloudApiError(CloudApiErrorCode.INVALID_ARGUMENT, `${JSON.stringify(action)} is not an action served here (${this.#actionList()})`);
    }
    this.#faults.add(action, options);
  }

  async #open(): Promise<{ server: Server; port: number }> {
    const server = createServer(
      {
        headersTimeout: this.#headersTimeoutMs,
        requestTimeout: this.#requestTimeoutMs,
        // Node checks the two timeouts every 30 s by default, which would let a 10 s timeout run to 40 s
        connectionsCheckingInterval: Math.max(10, Math.min(1000, this.#headersTimeoutMs / 4)),
      },
      (req, res) => void this.#handle(req, res),
    );
    const port = await listen(
      server,
      this.#requestedPort,
      this.#host,
      (message, cause) => new CloudApiError(CloudApiErrorCode.ADDRESS_IN_USE, message, { cause }),
    );
    // past listen, an 'error' (e.g. EMFILE on accept) must not crash the process
    server.on('error', (err) => this.#log(`server error: ${err.message}`));
    return { server, port };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const action = header(req, 'x-tc-action') ?? '-';
    let outcome: string;
    try {
      const result = await this.#serve(req);
      send(res, { ...result, RequestId: requestId });
      outcome = 'ok';
    } catch (err) {
      const error = toCloudApiError(err);
      send(res, { Error: { Code: error.code, Message: error.message }, RequestId: requestId });
      outcome = `${error.code}: ${error.message}`;
    }
    this.#log(`${action} ${outcome} (${Math.round(performance.now() - started)} ms)`);
  }

  async #serve(req: IncomingMessage): Promise<ActionResult> {
    const method = (req.method ?? 'GET').toUpperCase();
    if (method !== 'POST' && method !== 'GET') {
      req.resume();
      throw new CloudApiError(CloudApiErrorCode.UNSUPPORTED_PROTOCOL, `the Cloud API takes GET and POST requests, not ${method}`);
    }
    const body = await readBody(req, MAX_BODY_BYTES);
    if (!body) throw new CloudApiError(CloudApiErrorCode.REQUEST_SIZE_LIMIT_EXCEEDED, `the request body is larger than ${MAX_BODY_BYTES} bytes`);
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const verdict = verifyTc3(
      { method, path: q === -1 ? rawUrl : rawUrl.slice(0, q), query: q === -1 ? '' : rawUrl.slice(q + 1), headers: req.headers, body },
      this.#credentials,
      Date.now(),
      { clockSkewSeconds: this.#clockSkewSeconds },
    );
    if (!verdict.ok) {
      if (verdict.canonicalRequest !== undefined) {
        this.#log(`signature mismatch; the server signed the canonical request ${JSON.stringify(verdict.canonicalRequest)}`);
      }
      throw new CloudApiError(verdict.code, verdict.message);
    }
    if (method === 'GET') {
      // GET flattens nested parameters into the query (`RequestConfig.Path=…`), which no action here would read back.
      throw new CloudApiError(CloudApiErrorCode.UNSUPPORTED_OPERATION, 'the local Cloud API serves POST requests with a JSON body (the SDK default), not GET');
    }
    const action = header(req, 'x-tc-action');
    if (!action) throw new CloudApiError(CloudApiErrorCode.MISSING_PARAMETER, 'the request is missing the X-TC-Action header');
    this.#calls.set(action, (this.#calls.get(action) ?? 0) + 1);
    const version = header(req, 'x-tc-version');
    if (!version) throw new CloudApiError(CloudApiErrorCode.MISSING_PARAMETER, 'the request is missing the X-TC-Version header');
    const product = this.#products.get(version);
    if (!product) {
      throw new CloudApiError(CloudApiErrorCode.NO_SUCH_VERSION, `API version ${version} is not served here (${this.#actionList()})`);
    }
    if (!Object.hasOwn(product.actions, action)) {
      throw new CloudApiError(CloudApiErrorCode.INVALID_ACTION, `${product.name} ${version} has no action ${action} here (${this.#actionList()})`);
    }
    if (!header(req, 'x-tc-region')) throw new CloudApiError(CloudApiErrorCode.MISSING_PARAMETER, 'the request is missing the X-TC-Region header');
    const params = parseParams(body);
    const fault = this.#faults.take(action, params);
    if (fault) throw fault;
    return await product.actions[action](params);
  }

  #actionList(): string {
    return [...this.#products.values()].map((p) => `${p.name} ${p.version}: ${Object.keys(p.actions).join(', ')}`).join('; ');
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function send(res: ServerResponse, response: Record<string, unknown>): void {
  const body = JSON.stringify({ Response: response });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
