/**
 * The API Gateway WebSocket events (event-function mode) and their validation.
 * Unknown fields are always accepted: the gateway may add them.
 */
import { ChatError, ErrNo } from './errors';

/** `requestContext` of a connecting event. */
export interface RequestContext {
  serviceId?: string;
  path?: string;
  httpMethod?: string;
  requestId?: string;
  sourceIp?: string;
  stage?: string;
  websocketEnable?: boolean;
  [key: string]: unknown;
}

/** Event received by the register function. */
export interface ConnectingEvent {
  requestContext: RequestContext;
  websocket: {
    action: 'connecting';
    secConnectionID: string;
    /** Comma-separated subprotocols the client offered, when it offered any. */
    secWebSocketProtocol?: string;
    secWebSocketExtensions?: string;
  };
}

/** Event received by the transport function. */
export interface DataEvent {
  websocket: {
    /** `data send`; older documents say `data recv`. */
    action: 'data send' | 'data recv';
    secConnectionID: string;
    dataType: 'text' | 'binary';
    /** Text, or base64 when `dataType` is `binary`. */
    data: string;
  };
}

/** Event received by the cleanup function. */
export interface ClosingEvent {
  websocket: { action: 'closing'; secConnectionID: string };
}

/** Answer of the register function. */
export interface RegisterAnswer {
  errNo: number;
  errMsg: string;
  websocket?: { action: 'connecting'; secConnectionID: string; secWebSocketProtocol?: string };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function websocketOf(event: unknown): Record<string, unknown> {
  if (!isObject(event) || !isObject(event.websocket)) {
    throw new ChatError('MALFORMED_EVENT', 'not found websocket', ErrNo.NO_WEBSOCKET);
  }
  return event.websocket;
}

function connectionIdOf(ws: Record<string, unknown>): string {
  const id = ws.secConnectionID;
  if (typeof id !== 'string' || id === '') {
    throw new ChatError('MALFORMED_EVENT', 'websocket.secConnectionID is missing or not a string', ErrNo.MALFORMED_EVENT);
  }
  return id;
}

function expectAction(ws: Record<string, unknown>, allowed: string[]): void {
  if (typeof ws.action !== 'string' || !allowed.includes(ws.action)) {
    throw new ChatError(
      'MALFORMED_EVENT',
      `websocket.action must be ${allowed.map((a) => `"${a}"`).join(' or ')}, got ${JSON.stringify(ws.action)}`,
      ErrNo.MALFORMED_EVENT,
    );
  }
}

function optionalString(ws: Record<string, unknown>, field: string): string | undefined {
  const v = ws[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    throw new ChatError('MALFORMED_EVENT', `websocket.${field} must be a string`, ErrNo.MALFORMED_EVENT);
  }
  return v;
}

/** Validates a connecting event; throws a {@link ChatError} carrying the errNo to answer. */
export function parseConnectingEvent(event: unknown): ConnectingEvent {
  if (!isObject(event) || !isObject(event.requestContext)) {
    throw new ChatError('MALFORMED_EVENT', 'not found request context', ErrNo.NO_REQUEST_CONTEXT);
  }
  const ws = websocketOf(event);
  expectAction(ws, ['connecting']);
  return {
    requestContext: event.requestContext as RequestContext,
    websocket: {
      action: 'connecting',
      secConnectionID: connectionIdOf(ws),
      secWebSocketProtocol: optionalString(ws, 'secWebSocketProtocol'),
      secWebSocketExtensions: optionalString(ws, 'secWebSocketExtensions'),
    },
  };
}

/** Validates a data event. Binary data must be base64. */
export function parseDataEvent(event: unknown): DataEvent {
  const ws = websocketOf(event);
  expectAction(ws, ['data send', 'data recv']);
  const secConnectionID = connectionIdOf(ws);
  const dataType = ws.dataType ?? 'text';
  if (dataType !== 'text' && dataType !== 'binary') {
    throw new ChatError('MALFORMED_EVENT', `websocket.dataType must be "text" or "binary", got ${JSON.stringify(dataType)}`, ErrNo.MALFORMED_EVENT);
  }
  const data = ws.data ?? '';
  if (typeof data !== 'string') {
    throw new ChatError('MALFORMED_EVENT', 'websocket.data must be a string', ErrNo.MALFORMED_EVENT);
  }
  if (dataType === 'binary' && !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
    throw new ChatError('MALFORMED_EVENT', 'websocket.data of a binary frame must be base64', ErrNo.MALFORMED_EVENT);
  }
  return { websocket: { action: ws.action as 'data send', secConnectionID, dataType, data } };
}

/** Validates a closing event. */
export function parseClosingEvent(event: unknown): ClosingEvent {
  const ws = websocketOf(event);
  expectAction(ws, ['closing']);
  return { websocket: { action: 'closing', secConnectionID: connectionIdOf(ws) } };
}

/** The connection id of an event that may be malformed, if it has one. */
export function connectionIdIfAny(event: unknown): string | undefined {
  if (!isObject(event) || !isObject(event.websocket)) return undefined;
  const id = event.websocket.secConnectionID;
  return typeof id === 'string' && id !== '' ? id : undefined;
}
