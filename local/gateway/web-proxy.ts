/**
 * The handshake of a connection to a web function, passed through: the client's request goes to
 * the instance as it came (its path without the environment, every header, `X-Forwarded-For` and
 * `X-Api-RequestId` added), and the instance's answer goes back to the client as it came: a 101
 * with the subprotocol and extensions the instance chose, or a refusal (403, 503, ...) with its
 * headers and body. The gateway decides nothing about the handshake.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** How the instance answered. */
export type RelayOutcome =
  | {
      accepted: true;
      /** Bytes the instance sent after its 101 (frames already), to pass on. */
      rest: Buffer;
      /** `Sec-WebSocket-Protocol` of the answer, if any. */
      protocol?: string;
    }
  | {
      accepted: false;
      /** The instance's status (relayed to the client as it was), or the gateway's when it could not get one (also sent). */
      status: number;
      /** What the log says: the start of the body, or why there was no answer. */
      detail: string;
      /** Whether the client got the instance's own answer (false: the gateway's refusal is still to be sent). */
      relayed: boolean;
    };

/** The largest response head accepted from an instance. */
const MAX_HEAD_BYTES = 16 * 1024;
/** How long a refusal's body may take to pass through. */
const BODY_TIMEOUT_MS = 5000;

export interface RelayOptions {
  req: IncomingMessage;
  /** The client's socket. */
  client: Duplex;
  /** The instance's socket. */
  instance: Duplex;
  /** The request target the instance gets: path (without the environment) and query. */
  target: string;
  sourceIp: string;
  requestId: string;
  /** How long the instance may take to answer. */
  timeoutMs: number;
}

/** Writes the client's handshake to the instance and relays its answer (see the file comment). */
export async function relayHandshake(options: RelayOptions): Promise<RelayOutcome> {
  const { req, client, instance } = options;
  const lines = [`GET ${options.target} HTTP/1.1`];
  let forwardedFor: string | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    const lower = name.toLowerCase();
    if (lower === 'x-forwarded-for') forwardedFor = forwardedFor ? `${forwardedFor}, ${req.rawHeaders[i + 1]}` : req.rawHeaders[i + 1];
    else if (lower !== 'x-api-requestid') lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
  }
  lines.push(`X-Forwarded-For: ${forwardedFor ? `${forwardedFor}, ` : ''}${options.sourceIp}`, `X-Api-RequestId: ${options.requestId}`);
  instance.write(lines.join('\r\n') + '\r\n\r\n', 'latin1');

  const head = await readHead(instance, client, options.timeoutMs);
  if (!head.ok) return { accepted: false, status: head.status, detail: head.detail, relayed: false };
  if (head.status === 101) {
    client.write(head.bytes);
    return { accepted: true, rest: head.rest, protocol: head.headers['sec-websocket-protocol'] };
  }
  const detail = await relayRefusal(head, instance, client);
  return { accepted: false, status: head.status, detail, relayed: true };
}

interface Head {
  ok: true;
  status: number;
  /** The head as received, blank line included. */
  bytes: Buffer;
  /** What came after it. */
  rest: Buffer;
  /** Lower-cased names, the last value of each. */
  headers: Record<string, string>;
}

/** Reads the instance's response head; the instance socket is paused once it is read. */
function readHead(instance: Duplex, client: Duplex, timeoutMs: number): Promise<Head | { ok: false; status: number; detail: string }> {
  return new Promise((resolve) => {
    let received: Buffer = Buffer.alloc(0);
    const finish = (result: Head | { ok: false; status: number; detail: string }) => {
      clearTimeout(timer);
      instance.off('data', onData);
      instance.off('close', onInstanceClose);
      client.off('close', onClientClose);
      instance.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      received = received.length ? Buffer.concat([received, chunk]) : chunk;
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) {
        if (received.length > MAX_HEAD_BYTES)
          finish({ ok: false, status: 502, detail: `the instance answered the handshake with a head over ${MAX_HEAD_BYTES} bytes` });
        return;
      }
      const bytes = received.subarray(0, end + 4);
      const [statusLine, ...headerLines] = bytes.toString('latin1').split('\r\n');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
      if (!match) {
        finish({ ok: false, status: 502, detail: `the instance answered the handshake with no HTTP status line: ${JSON.stringify(statusLine.slice(0, 80))}` });
        return;
      }
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      finish({ ok: true, status: Number(match[1]), bytes, rest: received.subarray(end + 4), headers });
    };
    const onInstanceClose = () => finish({ ok: false, status: 502, detail: 'the instance closed the connection without answering the handshake' });
    const onClientClose = () => finish({ ok: false, status: 499, detail: 'the client left before the instance answered the handshake' });
    const timer = setTimeout(
      () => finish({ ok: false, status: 504, detail: `the instance did not answer the handshake within ${timeoutMs / 1000} s` }),
      timeoutMs,
    );
    instance.on('data', onData);
    instance.once('close', onInstanceClose);
    client.once('close', onClientClose);
    instance.resume();
  });
}

/** Passes a refusal through, head and body (by Content-Length, or until the instance closes), then ends the client. */
function relayRefusal(head: Head, instance: Duplex, client: Duplex): Promise<string> {
  const declared = Number(head.headers['content-length']);
  let left = Number.isFinite(declared) && declared >= 0 ? declared : Infinity;
  let shown = '';
  return new Promise((resolve) => {
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      instance.off('data', onData);
      instance.off('close', done);
      // a client that keeps its side open after the answer is not waited for
      client.once('finish', () => client.destroy());
      client.end();
      instance.destroy();
      resolve(`the instance refused the handshake with ${head.status}${shown ? `: ${shown.trim()}` : ''}`);
    };
    const onData = (chunk: Buffer) => {
      const piece = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= piece.length;
      if (shown.length < 200) shown += piece.toString('utf8').slice(0, 200 - shown.length);
      client.write(piece);
      if (left <= 0) done();
    };
    const timer = setTimeout(done, BODY_TIMEOUT_MS);
    client.write(head.bytes);
    instance.once('close', done);
    instance.on('data', onData);
    if (head.rest.length) onData(head.rest);
    if (left <= 0) done();
    else instance.resume();
  });
}
