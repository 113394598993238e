/**
 * The reverse-push address: `POST /api-<apiId>` with a `data send` or `closing` request.
 *
 * This is the hot path of every broadcast (one POST per recipient), so it logs nothing per
 * request, keeps sockets alive and does no more than parse, check and send.
 *
 * Bounds, so no client of the address can make the gateway hold unbounded memory:
 * - a body over 8 MiB is refused (413);
 * - bodies being read at once count against `maxBytesInFlight` by their declared length (a chunked
 *   body, of unknown length, counts as the 8 MiB maximum, or all of `maxBytesInFlight` if less): a
 *   request beyond it waits, unread, until there is room, in arrival order. It is not refused: on
 *   the cloud a non-200 answer means the gateway closes that client, so a refusal here would make
 *   functions drop clients that are still connected. The server's request timeout bounds the wait;
 * - what an answer echoes from the request (an id, a field's value) is cut to 64 characters.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../read-body';

/** `errNo` values of push answers. The cloud's own values are undocumented; 0 is the only one relied on. */
export const PushErrNo = {
  OK: 0,
  /** Unknown or closed connection id, or one that belongs to another API. */
  NO_CONNECTION: 1,
  /** The request is not a valid push (HTTP 400). */
  MALFORMED_REQUEST: 2,
  /** The frame is over the message size limit; it was not sent. */
  MESSAGE_TOO_LARGE: 3,
  /** No API at this address (HTTP 404). */
  UNKNOWN_API: 4,
} as const;

/** A request body larger than this cannot hold a frame within the limit, even JSON-escaped. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Characters of a request's value an answer repeats. */
const MAX_ECHO_CHARS = 64;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const OK_BODY = Buffer.from(JSON.stringify({ errNo: PushErrNo.OK, errMsg: 'ok' }));

/** A connection as the push endpoint sees it. */
export interface PushTarget {
  readonly apiId: string;
  /** Sends `bytes` bytes; returns why the frame was not sent, or undefined once sent. */
  deliver(payload: string | Buffer, binary: boolean, bytes: number): string | undefined;
  readonly isOpen: boolean;
  close(code: number, reason: string): void;
}

/** Where the endpoint finds connections. */
export interface PushDirectory {
  /** An open (or closing) connection. */
  find(id: string): PushTarget | undefined;
  /** Whether the id belonged to a connection that has closed. */
  wasClosed(id: string): boolean;
}

type PushRequest = { action: 'data send'; id: string; binary: boolean; data: string } | { action: 'closing'; id: string };

export class PushEndpoint {
  readonly #directory: PushDirectory;
  readonly #maxMessageBytes: number;
  readonly #maxBytesInFlight: number;
  #bytesInFlight = 0;
  /** Requests waiting for room, oldest first. */
  readonly #waiting: Array<{ reserved: number; start: () => void }> = [];

  /**
   * @param limits.maxMessageBytes largest frame sent
   * @param limits.maxBytesInFlight request body bytes read at once, across requests
   */
  constructor(directory: PushDirectory, limits: { maxMessageBytes: number; maxBytesInFlight: number }) {
    this.#directory = directory;
    this.#maxMessageBytes = limits.maxMessageBytes;
    this.#maxBytesInFlight = limits.maxBytesInFlight;
  }

  /** Answers one push request addressed to `apiId` (an API that exists). */
  handle(req: IncomingMessage, res: ServerResponse, apiId: string): void {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      answer(res, 405, PushErrNo.MALFORMED_REQUEST, `the push address takes POST, not ${req.method}`);
      req.resume();
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_BODY_BYTES) {
      res.setHeader('connection', 'close');
      answer(res, 413, PushErrNo.MESSAGE_TOO_LARGE, `message too large: the request body is over ${MAX_BODY_BYTES} bytes`);
      req.destroy();
      return;
    }
    // a chunked body's length is unknown: it counts as the largest allowed
    const reserved = req.headers['content-length'] === undefined ? Math.min(MAX_BODY_BYTES, this.#maxBytesInFlight) : declared;
    const entry = { reserved, start: () => this.#read(req, res, apiId, reserved) };
    if (this.#waiting.length > 0 || !this.#fits(reserved)) {
      this.#waiting.push(entry);
      // A client that gives up (or is cut by the request timeout) leaves the queue.
      req.once('close', () => {
        const at = this.#waiting.indexOf(entry);
        if (at >= 0) {
          this.#waiting.splice(at, 1);
          this.#admit();
        }
      });
      return;
    }
    entry.start();
  }

  /** Push requests waiting for room to be read. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Alone, a request always fits (a cap below one body would otherwise hold it for ever). */
  #fits(reserved: number): boolean {
    return this.#bytesInFlight === 0 || this.#bytesInFlight + reserved <= this.#maxBytesInFlight;
  }

  /** Starts waiting requests, oldest first, while they fit. */
  #admit(): void {
    while (this.#waiting.length > 0 && this.#fits(this.#waiting[0]!.reserved)) this.#waiting.shift()!.start();
  }

  #read(req: IncomingMessage, res: ServerResponse, apiId: string, reserved: number): void {
    this.#bytesInFlight += reserved;
    // exactly one of the two below runs, for a body read whole, too large, or cut off
    const release = () => {
      this.#bytesInFlight -= reserved;
      this.#admit();
    };
    readBody(req, MAX_BODY_BYTES).then(
      (body) => {
        release();
        if (!body) {
          answer(res, 413, PushErrNo.MESSAGE_TOO_LARGE, `message too large: the request body is over ${MAX_BODY_BYTES} bytes`);
          return;
        }
        const parsed = parsePush(body);
        if (typeof parsed === 'string') {
          answer(res, 400, PushErrNo.MALFORMED_REQUEST, parsed);
          return;
        }
        this.#apply(res, apiId, parsed);
      },
      () => {
        release();
        res.destroy();
      },
    );
  }

  #apply(res: ServerResponse, apiId: string, push: PushRequest): void {
    const target = this.#directory.find(push.id);
    if (!target) {
      const why = this.#directory.wasClosed(push.id) ? 'is closed' : 'is unknown';
      answer(res, 200, PushErrNo.NO_CONNECTION, `connection ${echo(push.id)} ${why}`);
      return;
    }
    if (target.apiId !== apiId) {
      answer(res, 200, PushErrNo.NO_CONNECTION, `connection ${push.id} belongs to API ${target.apiId}, not ${apiId}`);
      return;
    }
    if (!target.isOpen) {
      answer(res, 200, PushErrNo.NO_CONNECTION, `connection ${push.id} is closing`);
      return;
    }
    if (push.action === 'closing') {
      target.close(1000, '');
      sendOk(res);
      return;
    }
    const payload = push.binary ? Buffer.from(push.data, 'base64') : push.data;
    const size = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
    if (size > this.#maxMessageBytes) {
      answer(res, 200, PushErrNo.MESSAGE_TOO_LARGE, `message too large: ${size} bytes, over the ${this.#maxMessageBytes}-byte limit; not sent`);
      return;
    }
    const notSent = target.deliver(payload, push.binary, size);
    if (notSent !== undefined) {
      answer(res, 200, PushErrNo.NO_CONNECTION, `connection ${push.id} ${notSent}`);
      return;
    }
    sendOk(res);
  }
}

/** Parses a push body; a string is the reason it is malformed. */
export function parsePush(body: Buffer): PushRequest | string {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return 'body is not JSON';
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'body must be a JSON object {"websocket": {...}}';
  const ws = (json as { websocket?: unknown }).websocket;
  if (typeof ws !== 'object' || ws === null || Array.isArray(ws)) return 'missing "websocket" object';
  const { action, secConnectionID: id, dataType, data } = ws as Record<string, unknown>;
  if (typeof id !== 'string' || id === '') return 'missing websocket.secConnectionID';
  if (action === 'closing') return { action, id };
  if (action !== 'data send') return `websocket.action must be "data send" or "closing", got ${echo(JSON.stringify(action))}`;
  if (dataType !== 'text' && dataType !== 'binary') return `websocket.dataType must be "text" or "binary", got ${echo(JSON.stringify(dataType))}`;
  if (typeof data !== 'string') return 'websocket.data must be a string (base64 when dataType is "binary")';
  if (dataType === 'binary' && (data.length % 4 !== 0 || !BASE64.test(data))) return 'websocket.data is not valid base64';
  return { action, id, binary: dataType === 'binary', data };
}

/** A value from the request as an answer may repeat it: at most 64 characters, then `…`. */
export function echo(value: string | undefined): string {
  if (value === undefined) return 'undefined';
  return value.length > MAX_ECHO_CHARS ? `${value.slice(0, MAX_ECHO_CHARS)}…` : value;
}

function sendOk(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': OK_BODY.length }).end(OK_BODY);
}

/** Answers `{errNo, errMsg}` with an HTTP status. */
export function answer(res: ServerResponse, status: number, errNo: number, errMsg: string): void {
  const body = Buffer.from(JSON.stringify({ errNo, errMsg }));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
}
