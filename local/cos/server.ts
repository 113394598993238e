/**
 * A COS-compatible object store for local development: this server speaks COS to the unmodified
 * cos-nodejs-sdk-v5 (COS signatures, COS error documents, COS listing paging, x-cos-meta-*
 * metadata). It answers object writes, deletes and listings itself, and hands the rest (reads,
 * multipart uploads, bucket settings) to s3rver, running over the same {@link ObjectStore}.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { isIPv6 } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import S3rver from 's3rver';
import { describeError } from '../coded-error';
import { CosError, CosServerError, newRequestId } from './errors';
import { listObjectsPage, parseListQuery, renderEmptyMultipartUploads, renderListBucketResult } from './listing';
import { checkContentMd5, deleteObjects, parseDeleteRequest, renderDeleteResult } from './multi-delete';
import { type RequestTarget, bucketNameProblem, objectKeyProblem, parseRequestTarget } from './paths';
import { type ResponseContext, adaptS3rverResponse, sendEmpty, sendError, sendXml } from './response';
import { type LocalCredential, verifyCosSignature } from './signature';
import { ObjectStore } from './store';
import { makePrivateDir, makeTreePrivate } from './private-files';
import { Listener, listen } from '../listen';
import { readBody } from '../read-body';

export type { LocalCredential } from './signature';

export interface CosServerOptions {
  /** Folder holding the objects; created if missing. It and everything in it are made owner-only (0700 folders, 0600 files). */
  directory: string;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 0 = any free port. */
  port?: number;
  /** Key pairs whose signatures are accepted. */
  credentials: LocalCredential[];
  /** Buckets created at start if missing. */
  buckets?: string[];
  /** Default true; when false, one line per request is logged to stdout. */
  silent?: boolean;
  /** Limits on slow clients; see {@link CosServerTimeouts}. */
  timeouts?: CosServerTimeouts;
}

/**
 * How long a client may take to send a request; a connection past either limit is answered 408
 * and closed, so clients trickling bytes cannot hold connections open. 0 turns a limit off.
 */
export interface CosServerTimeouts {
  /** Until the request's headers are in. Default {@link DEFAULT_HEADERS_TIMEOUT_MS}. */
  headersMs?: number;
  /** Until the whole request, body included, is in. Default {@link DEFAULT_REQUEST_TIMEOUT_MS}; at least `headersMs`. */
  requestMs?: number;
}

/** Default time to receive a request's headers. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Default time to receive a whole request: an object body streams within it (60 s is 60 MB at 1 MB/s). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** Query parameters of GET Bucket (list objects) that this server answers itself. */
const LISTING_PARAMS = new Set(['prefix', 'marker', 'max-keys', 'delimiter', 'encoding-type']);
/** Bucket sub-resources s3rver implements (or rejects properly) on GET. */
const S3RVER_BUCKET_GETS = new Set(['cors', 'location', 'website']);
/** Larger DeleteMultipleObjects bodies are refused: 1000 keys of 850 bytes fit well below it. */
const MAX_DELETE_BODY_BYTES = 2 * 1024 * 1024;
/** Object bodies up to this size are held in memory while written; larger ones are streamed to disk. */
const BUFFERED_PUT_BYTES = 1024 * 1024;
/** How long stop() lets in-flight requests finish before cutting their connections. */
const STOP_GRACE_MS = 1000;

export { CosServerError };

export class CosServer {
  readonly #directory: string;
  readonly #host: string;
  readonly #requestedPort: number;
  readonly #credentials: readonly LocalCredential[];
  readonly #buckets: readonly string[];
  readonly #silent: boolean;
  readonly #timeouts: Required<CosServerTimeouts>;
  readonly #s3rver: S3rver;
  readonly #s3rverHandler: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  readonly #store: ObjectStore;
  // the journals are written out once no request can add to them
  readonly #listener = new Listener({ open: () => this.#open(), graceMs: STOP_GRACE_MS, afterClose: () => this.#store.close() });

  constructor(options: CosServerOptions) {
    if (options.credentials.length === 0) {
      throw new CosServerError('ERR_NO_CREDENTIALS', 'CosServer needs at least one credential to accept requests.');
    }
    for (const credential of options.credentials) {
      if (!credential.secretId || !credential.secretKey) {
        throw new CosServerError('ERR_BAD_CREDENTIAL', 'Every credential needs a non-empty secretId and secretKey.');
      }
    }
    for (const bucket of options.buckets ?? []) assertBucketName(bucket);
    this.#timeouts = checkTimeouts(options.timeouts ?? {});
    this.#directory = resolvePath(options.directory);
    this.#host = options.host ?? '127.0.0.1';
    this.#requestedPort = options.port ?? 0;
    this.#credentials = options.credentials.map((credential) => ({ ...credential }));
    this.#buckets = [...(options.buckets ?? [])];
    this.#silent = options.silent ?? true;
    // s3rver logs through its own logger; this server does the request logging
    this.#s3rver = new S3rver({ directory: this.#directory, silent: true, vhostBuckets: false });
    this.#s3rverHandler = this.#s3rver.callback();
    if (!this.#silent) {
      // s3rver answers internal failures with a generic message; the cause is only in this event
      this.#s3rver.on('error', (err: Error) => console.error('s3rver:', err));
    }
    this.#store = new ObjectStore(this.#directory);
    // s3rver's controllers reach the store through the Koa context; both references are replaced
    (this.#s3rver as unknown as { store: ObjectStore }).store = this.#store;
    (this.#s3rver as unknown as { context: { store: ObjectStore } }).context.store = this.#store;
  }

  /** The port listened on. @throws CosServerError `ERR_NOT_STARTED` before start(). */
  get port(): number {
    const port = this.#listener.port;
    if (port === undefined) throw new CosServerError('ERR_NOT_STARTED', 'CosServer is not listening; call start() first.');
    return port;
  }

  /** Base URL, e.g. `http://127.0.0.1:4568`. */
  get endpoint(): string {
    const host = this.#host === '0.0.0.0' ? '127.0.0.1' : this.#host === '::' ? '::1' : this.#host;
    return `http://${isIPv6(host) ? `[${host}]` : host}:${this.port}`;
  }

  /** The SDK's `Domain` option: `http://127.0.0.1:PORT/{Bucket}` (path-style requests). */
  get domain(): string {
    return `${this.endpoint}/{Bucket}`;
  }

  /**
   * Creates the data folder and the configured buckets, makes the folder's contents owner-only, then listens.
   * @throws CosServerError `EADDRINUSE` when the port is taken.
   */
  start(): Promise<void> {
    return this.#listener.start();
  }

  async #open(): Promise<{ server: Server; port: number }> {
    await makePrivateDir(this.#directory);
    // data an earlier version (or s3rver) wrote readable by others becomes owner-only too
    await makeTreePrivate(this.#directory);
    for (const bucket of this.#buckets) await this.createBucket(bucket);
    const { headersMs, requestMs } = this.#timeouts;
    const server = createServer(
      {
        headersTimeout: headersMs,
        requestTimeout: requestMs,
        connectionsCheckingInterval: checkingIntervalMs(this.#timeouts),
      },
      (req, res) => void this.#handle(req, res),
    );
    const port = await listen(server, this.#requestedPort, this.#host, (message, cause) => new CosServerError('EADDRINUSE', message, { cause }));
    // past listen, an 'error' (e.g. EMFILE on accept) must not crash the process
    server.on('error', (err) => console.error('local COS server:', err));
    return { server, port };
  }

  /** Stops listening and closes open connections. Safe to call twice, or before start(). */
  stop(): Promise<void> {
    return this.#listener.stop();
  }

  /**
   * Creates a bucket if it does not exist.
   * @throws CosServerError `InvalidBucketName` for a name COS would refuse.
   */
  async createBucket(name: string): Promise<void> {
    assertBucketName(name);
    await this.#store.createBucket(name);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const context: ResponseContext = { requestId: newRequestId(), resource: `${req.headers.host ?? ''}${req.url ?? ''}` };
    if (!this.#silent) {
      res.on('finish', () => console.log(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - started}ms`));
    }
    try {
      const target = parseRequestTarget(req.url ?? '/');
      context.resource = `${req.headers.host ?? ''}${target.rawPath}`;
      this.#authenticate(req, target);
      if (target.bucket !== '') {
        const problem = bucketNameProblem(target.bucket);
        if (problem) throw new CosError('InvalidBucketName', problem, 400);
      }
      if (target.key !== '') {
        const problem = objectKeyProblem(target.key);
        if (problem) throw new CosError(problem.code, problem.message, 400);
      }
      translateRequestHeaders(req, target);
      if (await this.#answerLocally(req, res, context, target)) return;
      adaptS3rverResponse(res, context);
      await this.#s3rverHandler(req, res);
    } catch (err) {
      sendError(res, context, toCosError(err));
    }
  }

  #authenticate(req: IncomingMessage, target: RequestTarget): void {
    const verdict = verifyCosSignature(
      { method: req.method ?? 'GET', pathname: target.signedPath, query: target.query, headers: req.headers },
      this.#credentials,
      Date.now(),
    );
    if (!verdict.ok) {
      const details: Record<string, string> = {};
      if (verdict.stringToSign !== undefined) details['StringToSign'] = verdict.stringToSign;
      if (verdict.formatString !== undefined) details['FormatString'] = verdict.formatString;
      throw new CosError(verdict.code, verdict.message, 403, details);
    }
  }

  /**
   * Answers the requests s3rver gets wrong for COS clients, and plain object writes and deletes,
   * which s3rver's middleware makes several times slower; false leaves the request to s3rver.
   */
  async #answerLocally(req: IncomingMessage, res: ServerResponse, context: ResponseContext, target: RequestTarget): Promise<boolean> {
    if (target.bucket === '') return false;
    const params = target.query.map(([name]) => name).filter((name) => !isAuthParam(name));
    const method = req.method ?? 'GET';
    if (target.key !== '') return params.length === 0 && this.#answerObject(req, res, context, target, method);

    if (method === 'GET' && params.every((name) => LISTING_PARAMS.has(name))) {
      const query = parseListQuery(target.query);
      await this.#requireBucket(target.bucket);
      const page = await listObjectsPage(this.#store, target.bucket, query);
      sendXml(res, context, 200, renderListBucketResult(target.bucket, query, page));
      return true;
    }
    if (method === 'GET' && params.includes('uploads')) {
      await this.#requireBucket(target.bucket);
      sendXml(res, context, 200, renderEmptyMultipartUploads(target.bucket, target.query));
      return true;
    }
    if (method === 'GET' && !params.some((name) => S3RVER_BUCKET_GETS.has(name))) {
      throw new CosError('NotImplemented', `This local COS server does not implement GET Bucket ?${params[0]}.`, 501);
    }
    if (method === 'HEAD' && params.length === 0) {
      if (!(await this.#store.bucketExists(target.bucket))) {
        // a HEAD answer has no body, so the code travels in the status alone
        sendEmpty(res, context, 404);
        return true;
      }
      sendEmpty(res, context, 200);
      return true;
    }
    if (method === 'POST' && params.includes('delete')) {
      await this.#requireBucket(target.bucket);
      const body = await readBodyWithin(req, MAX_DELETE_BODY_BYTES);
      checkContentMd5(body, headerValue(req, 'content-md5'));
      const request = parseDeleteRequest(body.toString('utf8'));
      const outcome = await deleteObjects(this.#store, target.bucket, request.keys);
      sendXml(res, context, 200, renderDeleteResult(outcome, request.quiet));
      return true;
    }
    return false;
  }

  /** PUT Object and DELETE Object without sub-resources; other object requests go to s3rver. */
  async #answerObject(req: IncomingMessage, res: ServerResponse, context: ResponseContext, target: RequestTarget, method: string): Promise<boolean> {
    if (method === 'PUT') {
      await this.#requireBucket(target.bucket);
      const length = Number(headerValue(req, 'content-length') ?? NaN);
      // small bodies (every registry record) are read whole and written in one call
      const content = length <= BUFFERED_PUT_BYTES ? await readBodyWithin(req, BUFFERED_PUT_BYTES) : req;
      const { md5 } = await this.#store.writeObject(target.bucket, target.key, content, req.headers);
      res.setHeader('ETag', JSON.stringify(md5));
      sendEmpty(res, context, 200);
      return true;
    }
    if (method === 'DELETE') {
      await this.#requireBucket(target.bucket);
      await this.#store.deleteObject(target.bucket, target.key);
      sendEmpty(res, context, 204);
      return true;
    }
    return false;
  }

  async #requireBucket(bucket: string): Promise<void> {
    if (!(await this.#store.bucketExists(bucket))) {
      throw new CosError('NoSuchBucket', 'The specified bucket does not exist.', 404);
    }
  }
}

/** @throws CosServerError `ERR_BAD_TIMEOUT` for a limit that is not a whole number of ms, or a request limit below the headers limit. */
function checkTimeouts(timeouts: CosServerTimeouts): Required<CosServerTimeouts> {
  const headersMs = timeouts.headersMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const requestMs = timeouts.requestMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  for (const [name, ms] of [
    ['headersMs', headersMs],
    ['requestMs', requestMs],
  ] as const) {
    if (!Number.isSafeInteger(ms) || ms < 0) {
      throw new CosServerError('ERR_BAD_TIMEOUT', `timeouts.${name} must be a whole number of milliseconds, 0 or more (0 = no limit); got ${ms}.`);
    }
  }
  if (headersMs > 0 && requestMs > 0 && headersMs > requestMs) {
    throw new CosServerError(
      'ERR_BAD_TIMEOUT',
      `timeouts.headersMs (${headersMs}) must be at most timeouts.requestMs (${requestMs}): the headers are part of the request.`,
    );
  }
  return { headersMs, requestMs };
}

/**
 * How often Node looks for connections past a limit. Its default, 30 s, would stretch a 10 s
 * limit to 40 s; half the shortest limit, at most 1 s, keeps the overshoot small.
 */
function checkingIntervalMs({ headersMs, requestMs }: Required<CosServerTimeouts>): number {
  const limits = [headersMs, requestMs].filter((ms) => ms > 0);
  if (limits.length === 0) return 30_000;
  return Math.max(10, Math.min(1000, Math.ceil(Math.min(...limits) / 2)));
}

function assertBucketName(name: string): void {
  const problem = bucketNameProblem(name);
  if (problem) throw new CosServerError('InvalidBucketName', problem);
}

/** Query parameters that carry a pre-signed URL's signature rather than select an operation. */
function isAuthParam(name: string): boolean {
  return name.startsWith('q-') || name === 'x-cos-security-token';
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Headers whose empty value s3rver would store and echo back; COS ignores them. */
const STORED_STANDARD_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'];

/** Rewrites a verified COS request into the S3 request s3rver understands. */
function translateRequestHeaders(req: IncomingMessage, target: RequestTarget): void {
  const headers = req.headers;
  // s3rver would try (and fail) to check these as AWS credentials
  delete headers['authorization'];
  delete headers['x-cos-security-token'];
  if (headers['x-cos-copy-source'] !== undefined) {
    throw new CosError('NotImplemented', 'This local COS server does not implement object copy (x-cos-copy-source).', 501);
  }
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-cos-meta-')) {
      headers['x-amz-meta-' + name.slice('x-cos-meta-'.length)] = headers[name];
      delete headers[name];
    }
  }
  if (req.method === 'PUT' && target.key !== '') {
    for (const name of STORED_STANDARD_HEADERS) {
      if (headers[name] === '') delete headers[name];
    }
    // COS's default type for uploads that name none (s3rver's would be binary/octet-stream)
    if (!headers['content-type']) headers['content-type'] = 'application/octet-stream';
  }
}

/** Reads a request body of at most `limit` bytes; a larger one is refused as COS does. */
async function readBodyWithin(req: IncomingMessage, limit: number): Promise<Buffer> {
  const body = await readBody(req, limit);
  if (!body) throw new CosError('EntityTooLarge', `The request body is larger than ${limit} bytes.`, 400);
  return body;
}

function toCosError(err: unknown): CosError {
  if (err instanceof CosError) return err;
  return new CosError('InternalError', `The local COS server failed: ${describeError(err)}`, 500);
}
