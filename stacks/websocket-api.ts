/**
 * The API Gateway side: a service, its WEBSOCKET API bound to the three functions, and a release.
 */
import { createHash } from 'node:crypto';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { ApiGatewayApi } from '../.gen/providers/tencentcloud/api-gateway-api/index';
import { ApiGatewayServiceRelease } from '../.gen/providers/tencentcloud/api-gateway-service-release/index';
import { ApiGatewayService } from '../.gen/providers/tencentcloud/api-gateway-service/index';

/** A function the gateway invokes. */
export interface FunctionBinding {
  readonly name: string;
  readonly namespace: string;
  /** @default '$LATEST' */
  readonly qualifier?: string;
}

export interface WebSocketApiProps {
  readonly serviceName: string;
  readonly apiName: string;
  readonly register: FunctionBinding;
  readonly transport: FunctionBinding;
  readonly cleanup: FunctionBinding;
  /** @default '/' */
  readonly path?: string;
  /** API Gateway environment to release to. @default 'release' */
  readonly environment?: string;
  /** Backend timeout, which for a WebSocket API is how long a connection may stay idle. @default 600 */
  readonly idleTimeoutSeconds?: number;
  /** Resources the API must be created after (the functions it binds). */
  readonly dependsOn?: ITerraformDependable[];
}

/** What the WebSocket bindings are, as the post-deploy step must make the live API say. */
export interface WebSocketBindings {
  register: Required<FunctionBinding>;
  transport: Required<FunctionBinding>;
  cleanup: Required<FunctionBinding>;
}

/** Service + WEBSOCKET API + release. The release is re-created whenever the API's configuration changes. */
export class WebSocketApi extends Construct {
  readonly service: ApiGatewayService;
  readonly api: ApiGatewayApi;
  readonly release: ApiGatewayServiceRelease;
  readonly environment: string;
  readonly path: string;
  readonly bindings: WebSocketBindings;
  /** Hash of the API's configuration, carried in `release_desc`. */
  readonly configHash: string;

  constructor(scope: Construct, id: string, props: WebSocketApiProps) {
    super(scope, id);
    this.environment = props.environment ?? 'release';
    this.path = props.path ?? '/';
    const bind = (b: FunctionBinding): Required<FunctionBinding> => ({ name: b.name, namespace: b.namespace, qualifier: b.qualifier ?? '$LATEST' });
    this.bindings = { register: bind(props.register), transport: bind(props.transport), cleanup: bind(props.cleanup) };
    const { register, transport, cleanup } = this.bindings;

    this.service = new ApiGatewayService(this, 'service', {
      serviceName: props.serviceName,
      serviceDesc: 'WebSocket chat',
      protocol: 'http&https',
      netType: ['OUTER'],
    });

    const apiConfig = {
      apiName: props.apiName,
      apiDesc: 'WebSocket chat: register, transport and cleanup functions',
      authType: 'NONE',
      protocol: 'WEBSOCKET',
      requestConfigPath: this.path,
      requestConfigMethod: 'GET',
      // The provider sends only the SCF fields for an SCF backend and demands all four of them...
      serviceConfigType: 'SCF',
      serviceConfigScfFunctionName: transport.name,
      serviceConfigScfFunctionNamespace: transport.namespace,
      serviceConfigScfFunctionQualifier: transport.qualifier,
      serviceConfigScfFunctionType: 'EVENT',
      serviceConfigTimeout: props.idleTimeoutSeconds ?? 600,
      // ...while the nine WebSocket bindings, declared here, reach the API only through the post-deploy step.
      serviceConfigWebsocketRegisterFunctionName: register.name,
      serviceConfigWebsocketRegisterFunctionNamespace: register.namespace,
      serviceConfigWebsocketRegisterFunctionQualifier: register.qualifier,
      serviceConfigWebsocketTransportFunctionName: transport.name,
      serviceConfigWebsocketTransportFunctionNamespace: transport.namespace,
      serviceConfigWebsocketTransportFunctionQualifier: transport.qualifier,
      serviceConfigWebsocketCleanupFunctionName: cleanup.name,
      serviceConfigWebsocketCleanupFunctionNamespace: cleanup.namespace,
      serviceConfigWebsocketCleanupFunctionQualifier: cleanup.qualifier,
    };
    this.api = new ApiGatewayApi(this, 'api', { serviceId: this.service.id, ...apiConfig, dependsOn: props.dependsOn });

    // A release never updates in place; a new release_desc replaces it, which re-releases.
    this.configHash = createHash('sha256').update(JSON.stringify({ ...apiConfig, environment: this.environment })).digest('hex').slice(0, 16);
    this.release = new ApiGatewayServiceRelease(this, 'release', {
      serviceId: this.service.id,
      environmentName: this.environment,
      releaseDesc: `chat api ${this.configHash}`,
      dependsOn: [this.api],
    });
  }

  /** The client URL, `wss://<outer sub domain>/<environment><path>`, as a token until apply. */
  get clientUrl(): string {
    return `wss://${this.service.outerSubDomain}/${this.environment}${this.path}`;
  }
}
