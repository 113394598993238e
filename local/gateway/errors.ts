/**
 * Errors the local gateway throws at its callers (misuse, bad definitions, a taken port).
 */

import { CodedError } from '../coded-error';

/** Thrown by the local gateway, with a `code` to branch on. */
export class GatewayError extends CodedError {}

/** Error codes of {@link GatewayError}. */
export const GatewayErrorCode = {
  /** The port is taken. */
  ADDRESS_IN_USE: 'EADDRINUSE',
  /** `port`, `origin` or a URL was asked for before start(). */
  NOT_STARTED: 'ERR_NOT_STARTED',
  /** A definition or argument is invalid; the message names the field. */
  INVALID_PARAMETER: 'InvalidParameterValue',
  /** No service with that id. */
  SERVICE_NOT_FOUND: 'ResourceNotFound.InvalidService',
  /** No API with that id. */
  API_NOT_FOUND: 'ResourceNotFound.InvalidApi',
  /** A service or API with that id already exists. */
  ALREADY_EXISTS: 'ResourceInUse.AlreadyExists',
  /** A release would serve an environment and path that another service already serves. */
  ROUTE_CONFLICT: 'ResourceInUse.RouteConflict',
  /** A service still has APIs or releases. */
  IN_USE: 'ResourceInUse',
  /** The service is not released to that environment. */
  NOT_RELEASED: 'FailedOperation.ServiceNotReleased',
  /** The limits given to the gateway are out of range. */
  INVALID_LIMITS: 'InvalidParameterValue.Limits',
} as const;
