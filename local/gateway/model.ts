/**
 * The gateway's resources as the Cloud API names them (services, WebSocket APIs, environments),
 * and the checks a definition must pass.
 */
import type { FunctionRef } from '../invoker';
import { GatewayError, GatewayErrorCode } from './errors';

export type { FunctionRef } from '../invoker';

/** An API Gateway service (Cloud API `CreateService`). */
export interface ServiceDef {
  serviceId: string;
  serviceName: string;
  /** `http`, `https`, `http&https`; informational here. */
  protocol?: string;
}

/**
 * A WebSocket API (Cloud API `CreateApi` / `ModifyApi`): in event-function mode (its three
 * WebSocket bindings), or with a web function behind it (`scfFunctionType: 'HTTP'`).
 */
export interface ApiDef {
  serviceId: string;
  apiId: string;
  apiName: string;
  /** `RequestConfig.Path`, e.g. `/`. */
  path: string;
  method: 'GET';
  protocol: 'WEBSOCKET';
  /** `SCF`, as the provider creates it. */
  serviceType: string;
  /** Seconds; for a WebSocket API this is the idle timeout (10–7200). */
  serviceTimeout: number;
  /**
   * `service_config_scf_function_*`, what the Terraform provider sends for an SCF backend. Kept but
   * never invoked: only the three WebSocket bindings below are, so a deploy that lacks them fails
   * locally as it would in the cloud.
   */
  scfFunction?: FunctionRef;
  /**
   * `ServiceScfFunctionType` (`service_config_scf_function_type`): `EVENT` (the default) or
   * `HTTP`. With `HTTP`, `scfFunction` is a WebSocket web function: each connection is proxied to
   * an instance of its own, with no register, transport or cleanup, and no reverse-push address.
   */
  scfFunctionType?: 'EVENT' | 'HTTP';
  /** `ServiceWebsocketRegisterFunction*`. */
  register?: FunctionRef;
  /** `ServiceWebsocketTransportFunction*`. */
  transport?: FunctionRef;
  /** `ServiceWebsocketCleanupFunction*`. */
  cleanup?: FunctionRef;
}

/** Whether connections to the API go to a web function, proxied, rather than to register/transport/cleanup. */
export function isWebApi(def: Pick<ApiDef, 'scfFunctionType'>): boolean {
  return def.scfFunctionType === 'HTTP';
}

/** Environments a service can be released to (Cloud API `ReleaseService.EnvironmentName`). */
export const ENVIRONMENTS = ['release', 'prepub', 'test'] as const;

/** The idle timeout range the cloud accepts, in seconds. */
export const IDLE_TIMEOUT_RANGE = { min: 10, max: 7200 } as const;
/** Floor of timeouts when short ones are explicitly allowed (tests, demos). */
export const SHORT_TIMEOUT_FLOOR_SECONDS = 0.1;

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
// RFC 3986 path characters, without query or fragment.
const PATH_PATTERN = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;

function invalid(message: string): GatewayError {
  return new GatewayError(GatewayErrorCode.INVALID_PARAMETER, message);
}

function checkId(value: unknown, field: string): void {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw invalid(`${field} must be 1-64 letters, digits, "_" or "-", got ${JSON.stringify(value)}`);
  }
}

function checkFunctionRef(value: unknown, field: string): void {
  if (value === undefined) return;
  const ref = value as Partial<FunctionRef> | null;
  if (typeof ref !== 'object' || ref === null) throw invalid(`${field} must be {name, namespace, qualifier}`);
  for (const key of ['name', 'namespace', 'qualifier'] as const) {
    if (typeof ref[key] !== 'string' || ref[key] === '') {
      throw invalid(`${field}.${key} must be a non-empty string, got ${JSON.stringify(ref[key])}`);
    }
  }
}

/** Checks a service definition; throws `InvalidParameterValue` naming the field. */
export function checkServiceDef(def: ServiceDef): void {
  checkId(def?.serviceId, 'serviceId');
  if (typeof def.serviceName !== 'string' || def.serviceName === '') throw invalid('serviceName must be a non-empty string');
}

/**
 * Checks an API definition; throws `InvalidParameterValue` naming the field.
 * @param minTimeoutSeconds the smallest `serviceTimeout` accepted (10, or less when short timeouts are allowed)
 */
export function checkApiDef(def: ApiDef, minTimeoutSeconds: number): void {
  checkId(def?.serviceId, 'serviceId');
  checkId(def.apiId, 'apiId');
  if (typeof def.apiName !== 'string' || def.apiName === '') throw invalid('apiName must be a non-empty string');
  if (typeof def.path !== 'string' || !PATH_PATTERN.test(def.path) || def.path.includes('//')) {
    throw invalid(`path must be an absolute URL path without query or fragment, e.g. "/", got ${JSON.stringify(def.path)}`);
  }
  if (def.method !== 'GET') throw invalid(`method of a WebSocket API must be "GET", got ${JSON.stringify(def.method)}`);
  if (def.protocol !== 'WEBSOCKET') throw invalid(`protocol must be "WEBSOCKET", got ${JSON.stringify(def.protocol)}`);
  if (typeof def.serviceType !== 'string' || def.serviceType === '') throw invalid('serviceType must be a non-empty string, e.g. "SCF"');
  const t = def.serviceTimeout;
  if (typeof t !== 'number' || !Number.isFinite(t) || t < minTimeoutSeconds || t > IDLE_TIMEOUT_RANGE.max) {
    throw invalid(
      `serviceTimeout (the idle timeout of a WebSocket API) must be ${minTimeoutSeconds}-${IDLE_TIMEOUT_RANGE.max} seconds, got ${JSON.stringify(t)}`,
    );
  }
  checkFunctionRef(def.scfFunction, 'scfFunction');
  if (def.scfFunctionType !== undefined && def.scfFunctionType !== 'EVENT' && def.scfFunctionType !== 'HTTP') {
    throw invalid(`scfFunctionType must be "EVENT" or "HTTP", got ${JSON.stringify(def.scfFunctionType)}`);
  }
  if (def.scfFunctionType === 'HTTP' && !def.scfFunction) throw invalid('an API of scfFunctionType "HTTP" needs scfFunction, the web function behind it');
  checkFunctionRef(def.register, 'register');
  checkFunctionRef(def.transport, 'transport');
  checkFunctionRef(def.cleanup, 'cleanup');
}

/** Throws unless `environment` is one the cloud knows. */
export function checkEnvironment(environment: string): void {
  if (!(ENVIRONMENTS as readonly string[]).includes(environment)) {
    throw invalid(`environment must be one of ${ENVIRONMENTS.join(', ')}, got ${JSON.stringify(environment)}`);
  }
}

/**
 * The key a WebSocket URL path is routed by: `/<environment><path>` without a trailing slash, so
 * `/release/` and `/release` both reach the API on `/`.
 */
export function routeKey(environment: string, apiPath: string): string {
  return stripTrailingSlash(`/${environment}${apiPath}`);
}

/** A request's path (no query) as a route key. */
export function routeKeyOfRequest(pathname: string): string {
  return stripTrailingSlash(pathname);
}

function stripTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}
