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
}

/** What UpdateFunctionConfiguration changes; `environment` is the whole new list. */
export interface ScfConfigurationChange {
  environment?: Record<string, string>;
  memoryMb?: number;
  timeoutSeconds?: number;
}

/** The SCF side: read a function, change its configuration. */
export interface ScfBackend {
  getFunction(name: string, namespace?: string): ScfFunctionView | undefined;
  /**
   * Applies a configuration change, swapping the function's instances. Rejects with `code`
   * `ERR_FUNCTION_NOT_FOUND` for an unknown function and `ERR_BAD_SPEC` for a refused value, as
   * `LocalScf` does; other codes are answered as `InternalError`.
   */
  updateConfiguration(name: string, namespace: string, change: ScfConfigurationChange): Promise<void>;
}
