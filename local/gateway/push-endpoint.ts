/**
 * The reverse-push address: `POST /api-<apiId>` with a `data send` or `closing` request.
 *
 * This is the hot path of every broadcast (one POST per recipient), so it logs nothing per
 * request, keeps sockets alive and does no more than parse, check and send.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../read-body.js';

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
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const OK_BODY = Buffer.from(JSON.stringify({ errNo: PushErrNo.OK, errMsg: 'ok' }));

/** A connection as the push endpoint sees it. */
export interface PushTarget {
  readonly apiId: string;
  /** False when the connection is closed or closing. */
  deliver(payload: string | Buffer, binary: boolean): boolean;
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

type PushRequest =
  | { action: 'data send'; id: string; binary: boolean; data: string }
  | { action: 'closing'; id: string };

export class PushEndpoint {
  readonly #directory: PushDirectory;
  readonly #maxMessageBytes: number;

  constructor(directory: PushDirectory, maxMessageBytes: number) {
    this.#directory = directory;
    this.#maxMessageBytes = maxMessageBytes;
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
    readBody(req, MAX_BODY_BYTES).then(
      (body) => {
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
      () => res.destroy(),
    );
  }

  #apply(res: ServerResponse, apiId: string, push: PushRequest): void {
    const target = this.#directory.find(push.id);
    if (!target) {
      const why = this.#directory.wasClosed(push.id) ? 'is closed' : 'is unknown';
      answer(res, 200, PushErrNo.NO_CONNECTION, `connection ${push.id} ${why}`);
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
    if (!target.deliver(payload, push.binary)) {
      answer(res, 200, PushErrNo.NO_CONNECTION, `connection ${push.id} is closing`);
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
  if (action !== 'data send') return `websocket.action must be "data send" or "closing", got ${JSON.stringify(action)}`;
  if (dataType !== 'text' && dataType !== 'binary') return `websocket.dataType must be "text" or "binary", got ${JSON.stringify(dataType)}`;
  if (typeof data !== 'string') return 'websocket.data must be a string (base64 when dataType is "binary")';
  if (dataType === 'binary' && (data.length % 4 !== 0 || !BASE64.test(data))) return 'websocket.data is not valid base64';
  return { action, id, binary: dataType === 'binary', data };
}

function sendOk(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': OK_BODY.length }).end(OK_BODY);
}

/** Answers `{errNo, errMsg}` with an HTTP status. */
export function answer(res: ServerResponse, status: number, errNo: number, errMsg: string): void {
  const body = Buffer.from(JSON.stringify({ errNo, errMsg }));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
}
