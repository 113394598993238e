/**
 * The local API Gateway (WebSocket, event-function mode) and what it is built from.
 */
export { LocalGateway, newConnectionId, type LocalGatewayOptions } from './gateway.js';
export { ApiCatalog, type Route } from './catalog.js';
export { CloseCode, GatewayConnection } from './connection.js';
export { GatewayError, GatewayErrorCode } from './errors.js';
export { closingEvent, connectingEvent, dataEvent, readRegisterAnswer, type RegisterVerdict } from './events.js';
export { DEFAULT_LIMITS, resolveLimits, type GatewayLimits } from './limits.js';
export { ENVIRONMENTS, IDLE_TIMEOUT_RANGE, type ApiDef, type FunctionRef, type ServiceDef } from './model.js';
export { PushErrNo, parsePush } from './push-endpoint.js';
export { TableInvoker, type Handler, type InvocationContext, type RecordedInvocation, type TableEntry } from './table-invoker.js';
export { TokenBucket } from './token-bucket.js';
