/**
 * Services, their draft API definitions and what each environment serves.
 *
 * As on the real gateway, createApi/modifyApi change a draft; only a release makes the service's
 * APIs live in an environment, as a snapshot. Routes of all services share one port, so a release
 * whose environment and path another service already serves is refused.
 */
import { GatewayError, GatewayErrorCode } from './errors';
import { type ApiDef, type ServiceDef, checkApiDef, checkEnvironment, checkServiceDef, routeKey, routeKeyOfRequest } from './model';

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

/** What the catalog holds, as JSON: what survives a restart of the local cloud. */
export interface CatalogSnapshot {
  version: 1;
  services: ServiceDef[];
  drafts: ApiDef[];
  releases: Array<{ serviceId: string; environment: string; description?: string; releasedAt: string; apis: ApiDef[] }>;
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
      throw new GatewayError(
        GatewayErrorCode.INVALID_PARAMETER,
        `API ${apiId} belongs to service ${current.serviceId}; an API cannot move to ${def.serviceId}`,
      );
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

  /** Cloud API DeleteService: refused while the service has APIs or releases, as the cloud does. */
  deleteService(serviceId: string): void {
    this.#requireService(serviceId);
    const api = [...this.#drafts.values()].find((d) => d.serviceId === serviceId);
    if (api) throw new GatewayError(GatewayErrorCode.IN_USE, `service ${serviceId} still has API ${api.apiId}`);
    const released = [...(this.#releases.get(serviceId)?.keys() ?? [])];
    if (released.length) throw new GatewayError(GatewayErrorCode.IN_USE, `service ${serviceId} is still released to ${released.join(', ')}`);
    this.#services.delete(serviceId);
  }

  /** Cloud API ModifyService: a new name or protocol; its APIs and releases stay. */
  modifyService(def: ServiceDef): void {
    checkServiceDef(def);
    this.#requireService(def.serviceId);
    this.#services.set(def.serviceId, structuredClone(def));
  }

  /** Cloud API DeleteApi: the draft goes; a release keeps serving its snapshot until the next release. */
  deleteApi(apiId: string): void {
    if (!this.#drafts.delete(apiId)) throw new GatewayError(GatewayErrorCode.API_NOT_FOUND, `no API ${apiId}`);
    this.#pushPaths.delete(ApiCatalog.pushPathOf(apiId));
  }

  /** Cloud API UnReleaseService: the environment serves nothing of the service any more. */
  unrelease(serviceId: string, environment: string): void {
    this.#requireService(serviceId);
    checkEnvironment(environment);
    if (!this.#releases.get(serviceId)?.delete(environment)) {
      throw new GatewayError(GatewayErrorCode.NOT_RELEASED, `service ${serviceId} is not released to ${environment}`);
    }
    for (const [key, route] of this.#routes) {
      if (route.serviceId === serviceId && route.environment === environment) this.#routes.delete(key);
    }
  }

  /** Whether a service is released to an environment. */
  isReleased(serviceId: string, environment: string): boolean {
    return this.#releases.get(serviceId)?.has(environment) ?? false;
  }

  service(serviceId: string): ServiceDef | undefined {
    const def = this.#services.get(serviceId);
    return def && structuredClone(def);
  }

  /** Everything, as JSON. */
  snapshot(): CatalogSnapshot {
    const releases: CatalogSnapshot['releases'] = [];
    for (const [serviceId, byEnvironment] of this.#releases) {
      for (const [environment, release] of byEnvironment) {
        releases.push({
          serviceId,
          environment,
          description: release.description,
          releasedAt: release.releasedAt.toISOString(),
          apis: [...release.apis.values()],
        });
      }
    }
    return structuredClone({ version: 1, services: [...this.#services.values()], drafts: [...this.#drafts.values()], releases });
  }

  /** Loads a snapshot into an empty catalog, checking it as the calls that made it would. */
  restore(snapshot: CatalogSnapshot): void {
    if (this.#services.size || this.#drafts.size) throw new GatewayError(GatewayErrorCode.INVALID_PARAMETER, 'restore needs an empty catalog');
    if (snapshot?.version !== 1)
      throw new GatewayError(GatewayErrorCode.INVALID_PARAMETER, `unknown catalog snapshot version ${JSON.stringify(snapshot?.version)}`);
    for (const service of snapshot.services) this.createService(service);
    for (const draft of snapshot.drafts) this.createApi(draft);
    for (const release of snapshot.releases) {
      const apis = new Map(release.apis.map((api) => [api.apiId, structuredClone(api)]));
      let byEnvironment = this.#releases.get(release.serviceId);
      if (!byEnvironment) this.#releases.set(release.serviceId, (byEnvironment = new Map()));
      byEnvironment.set(release.environment, { description: release.description, releasedAt: new Date(release.releasedAt), apis });
      for (const api of apis.values())
        this.#routes.set(routeKey(release.environment, api.path), { serviceId: release.serviceId, environment: release.environment, api });
    }
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
