/**
 * Services, their draft API definitions and what each environment serves.
 *
 * As on the real gateway, createApi/modifyApi change a draft; only a release makes the service's
 * APIs live in an environment, as a snapshot. Routes of all services share one port, so a release
 * whose environment and path another service already serves is refused.
 */
import { GatewayError, GatewayErrorCode } from './errors.js';
import { type ApiDef, type ServiceDef, checkApiDef, checkEnvironment, checkServiceDef, routeKey, routeKeyOfRequest } from './model.js';

/** A released API as a connection is routed to it. */
export interface Route {
  serviceId: string;
  environment: string;
  /** The definition as released (a snapshot; later drafts do not change it). */
  api: ApiDef;
}

interface Release {
  description?: string;
  releasedAt: Date;
  apis: Map<string, ApiDef>;
}

/** The registry of services, draft APIs, releases and routes. */
export class ApiCatalog {
  readonly #minTimeoutSeconds: number;
  readonly #services = new Map<string, ServiceDef>();
  /** apiId → draft, in creation order. */
  readonly #drafts = new Map<string, ApiDef>();
  /** serviceId → environment → release. */
  readonly #releases = new Map<string, Map<string, Release>>();
  /** route key (`/release/chat`) → route. */
  readonly #routes = new Map<string, Route>();
  /** push path (`/api-abc`) → apiId. */
  readonly #pushPaths = new Map<string, string>();

  /** @param minTimeoutSeconds the smallest `serviceTimeout` accepted */
  constructor(minTimeoutSeconds: number) {
    this.#minTimeoutSeconds = minTimeoutSeconds;
  }

  createService(def: ServiceDef): void {
    checkServiceDef(def);
    if (this.#services.has(def.serviceId)) {
      throw new GatewayError(GatewayErrorCode.ALREADY_EXISTS, `service ${def.serviceId} already exists`);
    }
    this.#services.set(def.serviceId, structuredClone(def));
  }

  createApi(def: ApiDef): void {
    checkApiDef(def, this.#minTimeoutSeconds);
    this.#requireService(def.serviceId);
    if (this.#drafts.has(def.apiId)) throw new GatewayError(GatewayErrorCode.ALREADY_EXISTS, `API ${def.apiId} already exists`);
    const pushPath = ApiCatalog.pushPathOf(def.apiId);
    const holder = this.#pushPaths.get(pushPath);
    if (holder !== undefined) {
      throw new GatewayError(GatewayErrorCode.ALREADY_EXISTS, `API ${def.apiId} would share the push address ${pushPath} with API ${holder}`);
    }
    this.#checkDraftPath(def);
    this.#drafts.set(def.apiId, structuredClone(def));
    this.#pushPaths.set(pushPath, def.apiId);
  }

  /** Replaces a draft, as Cloud API ModifyApi does; live environments change only on release. */
  modifyApi(apiId: string, def: ApiDef): void {
    const current = this.#drafts.get(apiId);
    if (!current) throw new GatewayError(GatewayErrorCode.API_NOT_FOUND, `no API ${apiId}`);
    checkApiDef(def, this.#minTimeoutSeconds);
    if (def.apiId !== apiId) throw new GatewayError(GatewayErrorCode.INVALID_PARAMETER, `apiId ${def.apiId} does not match the API modified (${apiId})`);
    if (def.serviceId !== current.serviceId) {
      throw new GatewayError(GatewayErrorCode.INVALID_PARAMETER, `API ${apiId} belongs to service ${current.serviceId}; an API cannot move to ${def.serviceId}`);
    }
    this.#checkDraftPath(def);
    this.#drafts.set(apiId, structuredClone(def));
  }

  /** The draft definition, a copy. */
  draft(apiId: string): ApiDef | undefined {
    const def = this.#drafts.get(apiId);
    return def && structuredClone(def);
  }

  /** Publishes the service's current drafts to an environment. */
  release(serviceId: string, environment: string, description?: string): void {
    this.#requireService(serviceId);
    checkEnvironment(environment);
    const apis = new Map<string, ApiDef>();
    for (const def of this.#drafts.values()) if (def.serviceId === serviceId) apis.set(def.apiId, structuredClone(def));

    const wanted = new Map<string, Route>();
    for (const api of apis.values()) {
      const key = routeKey(environment, api.path);
      const taken = this.#routes.get(key);
      if (taken && taken.serviceId !== serviceId) {
        throw new GatewayError(
          GatewayErrorCode.ROUTE_CONFLICT,
          `cannot release service ${serviceId} to ${environment}: ${key} is already served by API ${taken.api.apiId} of service ${taken.serviceId}`,
        );
      }
      wanted.set(key, { serviceId, environment, api });
    }
    for (const [key, route] of this.#routes) {
      if (route.serviceId === serviceId && route.environment === environment) this.#routes.delete(key);
    }
    for (const [key, route] of wanted) this.#routes.set(key, route);

    let byEnvironment = this.#releases.get(serviceId);
    if (!byEnvironment) this.#releases.set(serviceId, (byEnvironment = new Map()));
    byEnvironment.set(environment, { description, releasedAt: new Date(), apis });
  }

  /** The released API a WebSocket request path reaches, if any. */
  route(pathname: string): Route | undefined {
    return this.#routes.get(routeKeyOfRequest(pathname));
  }

  /** The API as currently released in an environment (after a re-release, the new snapshot). */
  released(serviceId: string, environment: string, apiId: string): ApiDef | undefined {
    return this.#releases.get(serviceId)?.get(environment)?.apis.get(apiId);
  }

  /**
   * The path of a service's API for a WebSocket URL: the released one in that environment when
   * there is one, else the draft. Without `apiId`, the service's first API.
   */
  pathFor(serviceId: string, environment: string, apiId?: string): string {
    this.#requireService(serviceId);
    checkEnvironment(environment);
    const released = [...(this.#releases.get(serviceId)?.get(environment)?.apis.values() ?? [])];
    const drafts = [...this.#drafts.values()].filter((d) => d.serviceId === serviceId);
    const pick = (list: ApiDef[]) => list.find((d) => apiId === undefined || d.apiId === apiId);
    const api = pick(released) ?? pick(drafts);
    if (!api) {
      throw new GatewayError(GatewayErrorCode.API_NOT_FOUND, apiId ? `service ${serviceId} has no API ${apiId}` : `service ${serviceId} has no API`);
    }
    return api.path;
  }

  /** The apiId a push path (`/api-…`) belongs to. */
  apiOfPushPath(pathname: string): string | undefined {
    return this.#pushPaths.get(pathname);
  }

  hasApi(apiId: string): boolean {
    return this.#drafts.has(apiId);
  }

  /**
   * The push path of an API: `/api-<apiId>`, or `/<apiId>` when the id already starts with `api-`
   * as cloud ids do (`api-abc123` → `/api-abc123`, the shape of the cloud's push address).
   */
  static pushPathOf(apiId: string): string {
    return apiId.startsWith('api-') ? `/${apiId}` : `/api-${apiId}`;
  }

  #requireService(serviceId: string): void {
    if (!this.#services.has(serviceId)) throw new GatewayError(GatewayErrorCode.SERVICE_NOT_FOUND, `no service ${serviceId}`);
  }

  // The cloud refuses two APIs of one service on the same method and path.
  #checkDraftPath(def: ApiDef): void {
    const key = routeKey('', def.path);
    for (const other of this.#drafts.values()) {
      if (other.serviceId === def.serviceId && other.apiId !== def.apiId && routeKey('', other.path) === key) {
        throw new GatewayError(GatewayErrorCode.ALREADY_EXISTS, `service ${def.serviceId} already has API ${other.apiId} on GET ${other.path}`);
      }
    }
  }
}
