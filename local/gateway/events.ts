/**
 * The events the gateway sends its functions in event-function mode, and how it reads register's
 * answer. `requestContext` carries the fields the cloud's documented example shows.
 */
import type { InvocationResult } from '../invoker';

/** What the register event is built from. */
export interface ConnectingInfo {
  serviceId: string;
  /** The API's path, e.g. `/`. */
  path: string;
  requestId: string;
  sourceIp: string;
  /** The environment, e.g. `release`. */
  stage: string;
  connectionId: string;
  /** The raw `Sec-WebSocket-Protocol` header, when the client sent one. */
  protocolHeader?: string;
  /** The raw `Sec-WebSocket-Extensions` header, when the client sent one. */
  extensionsHeader?: string;
}

export function connectingEvent(info: ConnectingInfo) {
  return {
    requestContext: {
      serviceId: info.serviceId,
      path: info.path,
      httpMethod: 'GET',
      requestId: info.requestId,
      identity: {},
      sourceIp: info.sourceIp,
      stage: info.stage,
      websocketEnable: true,
    },
    websocket: {
      action: 'connecting',
      secConnectionID: info.connectionId,
      ...(info.protocolHeader !== undefined ? { secWebSocketProtocol: info.protocolHeader } : {}),
      ...(info.extensionsHeader !== undefined ? { secWebSocketExtensions: info.extensionsHeader } : {}),
    },
  };
}

export function dataEvent(connectionId: string, dataType: 'text' | 'binary', data: string) {
  return { websocket: { action: 'data send', secConnectionID: connectionId, dataType, data } };
}

export function closingEvent(connectionId: string) {
  return { websocket: { action: 'closing', secConnectionID: connectionId } };
}

/** Register's decision as the gateway applies it. */
export type RegisterVerdict =
  | { accept: true; protocol?: string }
  /** `status` is the HTTP status the handshake is refused with; `reason` its body. */
  | { accept: false; status: number; reason: string; errNo?: number };

/**
 * Reads a register invocation: errNo 0 accepts; another errNo refuses with 403 and errMsg; a
 * failed invocation refuses with 502 (504 for a timeout); an answer naming a subprotocol the
 * client did not offer is a function bug, refused with 502.
 */
export function readRegisterAnswer(result: InvocationResult, offered: readonly string[], functionName: string): RegisterVerdict {
  if (!result.ok) {
    if (result.kind === 'timeout') return { accept: false, status: 504, reason: `register function ${functionName} timed out: ${result.message}` };
    if (result.kind === 'not-found') return { accept: false, status: 502, reason: `register function ${functionName} not found: ${result.message}` };
    return { accept: false, status: 502, reason: `register function ${functionName} failed (${result.kind}): ${result.message}` };
  }
  const answer = result.value as { errNo?: unknown; errMsg?: unknown; websocket?: { secWebSocketProtocol?: unknown } } | null;
  const errNo = typeof answer === 'object' && answer !== null ? Number(answer.errNo) : NaN;
  if (typeof answer !== 'object' || answer === null || answer.errNo === undefined || answer.errNo === null || !Number.isInteger(errNo)) {
    return {
      accept: false,
      status: 502,
      reason: `register function ${functionName} answered ${preview(answer)}, not {"errNo": <integer>, "errMsg": ...}`,
    };
  }
  if (errNo !== 0) {
    const errMsg = typeof answer.errMsg === 'string' && answer.errMsg !== '' ? answer.errMsg : `refused by register (errNo ${errNo})`;
    return { accept: false, status: 403, reason: errMsg, errNo };
  }
  const chosen = answer.websocket?.secWebSocketProtocol;
  if (chosen === undefined || chosen === null || chosen === '') return { accept: true };
  if (typeof chosen !== 'string' || !offered.includes(chosen)) {
    const offer = offered.length ? `offered: ${offered.join(', ')}` : 'it offered none';
    return {
      accept: false,
      status: 502,
      reason: `register function ${functionName} chose subprotocol ${JSON.stringify(chosen)}, which the client did not offer (${offer})`,
    };
  }
  return { accept: true, protocol: chosen };
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
