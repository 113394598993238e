/**
 * What the local Cloud API needs of the services behind it. `LocalGateway` and `LocalScf` satisfy
 * these as they are; anything else shaped like them (a test double) will do.
 */
import type { ApiDef } from '../gateway/model';

export type { ApiDef } from '../gateway/model';
export type { FunctionRef } from '../invoker';

/** The API Gateway side: drafts, releases and the reverse-push address. */
export interface ApiGatewayBackend {
  /** The draft definition and its push address, or undefined for an unknown API. */
  describeApi(apiId: string): (ApiDef & { internalDomain: string }) | undefined;
  /** Replaces the draft (live after a release). Throws errors whose `code` is a Cloud API code. */
  modifyApi(apiId: string, def: ApiDef): void;
  /** Publishes the service's drafts to an environment. Throws `ResourceNotFound.InvalidService` for an unknown service. */
  releaseService(serviceId: string, environment: string, description?: string): void;
  /**
   * A service, or undefined when unknown: an unknown service then answers
   * `ResourceNotFound.InvalidService`. Optional: without it a service is known only through its
   * APIs (an API of another service, or an unknown service, answers `ResourceNotFound.InvalidApi`)
   * and DescribeApi carries no `ServiceName`.
   */
  describeService?(serviceId: string): { serviceId: string; serviceName: string } | undefined;
}

/** A function as GetFunction shows it. */
export interface ScfFunctionView {
  name: string;
  namespace: string;
  handler: string;
  /** The function's own variables (not the platform's). */
  environment: Record<string, string>;
  memoryMb: number;
  timeoutSeconds: number;
  runtime?: string;
  /** ISO time of the last change of code or configuration. */
  updatedAt?: string;
  /** `EVENT` when absent; `HTTP` for a web function. */
  type?: 'EVENT' | 'HTTP';
  /** `WS` for a WebSocket web function. */
  protocolType?: 'WS';
  /** `ProtocolParams.WSParams.IdleTimeOut`. */
  wsIdleTimeoutSeconds?: number;
  initTimeoutSeconds?: number;
  /** `VpcConfig` (kept, not enforced locally). */
  vpc?: { vpcId: string; subnetId: string };
}

/** What UpdateFunctionConfiguration changes; `environment` is the whole new list. */
export interface ScfConfigurationChange {
  environment?: Record<string, string>;
  memoryMb?: number;
  timeoutSeconds?: number;
  wsIdleTimeoutSeconds?: number;
  initTimeoutSeconds?: number;
  /** `null`: out of its VPC. */
  vpc?: { vpcId: string; subnetId: string } | null;
}

/** A function as CreateFunction makes it (its code comes as the zip's bytes). */
export interface ScfNewFunction {
  name: string;
  namespace: string;
  handler: string;
  environment: Record<string, string>;
  memoryMb: number;
  timeoutSeconds: number;
  runtime?: string;
  type?: 'EVENT' | 'HTTP';
  protocolType?: 'WS';
  wsIdleTimeoutSeconds?: number;
  initTimeoutSeconds?: number;
  vpc?: { vpcId: string; subnetId: string };
}

/**
 * The SCF side: read, create, update and delete functions. The three that change code reject
 * with `code` `ERR_FUNCTION_EXISTS`, `ERR_FUNCTION_NOT_FOUND`, `ERR_BAD_SPEC`, `ERR_BAD_ZIP`,
 * `ERR_BAD_HANDLER` or `ERR_INIT_FAILED`, as `LocalScf` does.
 */
export interface ScfBackend {
  getFunction(name: string, namespace?: string): ScfFunctionView | undefined;
  /** CreateFunction. Optional: without it, CreateFunction, UpdateFunctionCode and DeleteFunction answer `UnsupportedOperation`. */
  createFunction?(spec: ScfNewFunction, zip: Uint8Array): Promise<void>;
  /** UpdateFunctionCode: new code, the configuration kept. */
  updateCode?(name: string, namespace: string, zip: Uint8Array): Promise<void>;
  /** DeleteFunction. */
  deleteFunction?(name: string, namespace: string): Promise<void>;
  /**
   * Applies a configuration change, swapping the function's instances. Rejects with `code`
   * `ERR_FUNCTION_NOT_FOUND` for an unknown function and `ERR_BAD_SPEC` for a refused value, as
   * `LocalScf` does; other codes are answered as `InternalError`.
   */
  updateConfiguration(name: string, namespace: string, change: ScfConfigurationChange): Promise<void>;
}
