/**
 * The HTTP side of a WebSocket handshake: checks made before register is invoked, and refusals
 * written on the raw socket (the upgrade never happens).
 */
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

// RFC 6455 token characters, as ws checks them.
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`|a-z~]+$/;
const KEY = /^[+/0-9A-Za-z]{22}==$/;

/** A request that cannot be a WebSocket handshake. */
export interface HandshakeProblem {
  status: number;
  reason: string;
}

/** What the client offered. */
export interface HandshakeOffer {
  /** Offered subprotocols, in order. */
  protocols: string[];
  /** Raw `Sec-WebSocket-Protocol`, when sent. */
  protocolHeader?: string;
  /** Raw `Sec-WebSocket-Extensions`, when sent. */
  extensionsHeader?: string;
}

/**
 * Checks what ws would check when completing the upgrade, so a request it would refuse never
 * reaches the register function.
 */
export function readHandshake(req: IncomingMessage): HandshakeOffer | HandshakeProblem {
  if (req.method !== 'GET') return { status: 405, reason: 'a WebSocket handshake must be a GET' };
  if (req.headers.upgrade?.toLowerCase() !== 'websocket') return { status: 400, reason: 'invalid Upgrade header' };
  const key = req.headers['sec-websocket-key'];
  if (key === undefined || !KEY.test(key)) return { status: 400, reason: 'missing or invalid Sec-WebSocket-Key header' };
  const version = Number(req.headers['sec-websocket-version']);
  if (version !== 13 && version !== 8) return { status: 400, reason: 'missing or invalid Sec-WebSocket-Version header (13 or 8)' };
  const protocolHeader = headerValue(req, 'sec-websocket-protocol');
  const protocols: string[] = [];
  if (protocolHeader !== undefined) {
    for (const part of protocolHeader.split(',')) {
      const protocol = part.trim();
      if (!TOKEN.test(protocol) || protocols.includes(protocol)) {
        return { status: 400, reason: 'invalid Sec-WebSocket-Protocol header' };
      }
      protocols.push(protocol);
    }
  }
  return { protocols, protocolHeader, extensionsHeader: headerValue(req, 'sec-websocket-extensions') };
}

export function isProblem(value: HandshakeOffer | HandshakeProblem): value is HandshakeProblem {
  return 'status' in value;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Answers an upgrade request with a plain-text error and closes the socket. The reason is the
 * body and, cut to printable ASCII, the `X-Gateway-Error` header.
 */
export function refuseHandshake(socket: Duplex, status: number, reason: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = Buffer.from(reason, 'utf8');
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${body.length}`,
    `X-Gateway-Error: ${headerSafe(reason)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${headerSafe(value)}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), body]));
}

function headerSafe(value: string): string {
  const ascii = value.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 200 ? `${ascii.slice(0, 197)}...` : ascii;
}
