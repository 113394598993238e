/**
 * The API Gateway side: a service, its WEBSOCKET API bound to the three functions, and a release.
 */
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
  /** What the service and API are for, in their descriptions. @default 'chat' */
  readonly purpose?: string;
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

/**
 * Service + WEBSOCKET API + release. The release resource is created once and never replaced:
 * replacing it runs UnReleaseService first, an outage. Later releases are the post-deploy step's.
 */
export class WebSocketApi extends Construct {
  readonly service: ApiGatewayService;
  readonly api: ApiGatewayApi;
  readonly release: ApiGatewayServiceRelease;
  readonly environment: string;
  readonly path: string;
  readonly bindings: WebSocketBindings;
  /** What the post-deploy step must supply to ModifyApi, since DescribeApi does not return it. */
  readonly scfFunctionType: string;

  constructor(scope: Construct, id: string, props: WebSocketApiProps) {
    super(scope, id);
    this.environment = props.environment ?? 'release';
    this.path = props.path ?? '/';
    const bind = (b: FunctionBinding): Required<FunctionBinding> => ({ name: b.name, namespace: b.namespace, qualifier: b.qualifier ?? '$LATEST' });
    this.bindings = { register: bind(props.register), transport: bind(props.transport), cleanup: bind(props.cleanup) };
    const { register, transport, cleanup } = this.bindings;
    this.scfFunctionType = 'EVENT';

    this.service = new ApiGatewayService(this, 'service', {
      serviceName: props.serviceName,
      serviceDesc: `WebSocket ${props.purpose ?? 'chat'}`,
      protocol: 'http&https',
      netType: ['OUTER'],
    });

    const apiConfig = {
      apiName: props.apiName,
      apiDesc: `WebSocket ${props.purpose ?? 'chat'}: register, transport and cleanup functions`,
      authType: 'NONE',
      protocol: 'WEBSOCKET',
      requestConfigPath: this.path,
      requestConfigMethod: 'GET',
      // The provider sends only the SCF fields for an SCF backend and demands all four of them...
      serviceConfigType: 'SCF',
      serviceConfigScfFunctionName: transport.name,
      serviceConfigScfFunctionNamespace: transport.namespace,
      serviceConfigScfFunctionQualifier: transport.qualifier,
      serviceConfigScfFunctionType: this.scfFunctionType,
      serviceConfigTimeout: props.idleTimeoutSeconds ?? 600,
      // The provider's default is true; declared, so that neither the default nor the console drifts it.
      enableCors: false,
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

    // Every argument forces replacement, so nothing here may vary with the API's configuration.
    this.release = new ApiGatewayServiceRelease(this, 'release', {
      serviceId: this.service.id,
      environmentName: this.environment,
      releaseDesc: 'first release; later ones are made by the post-deploy step',
      dependsOn: [this.api],
    });
  }

  /** The client URL, `wss://<outer sub domain>/<environment><path>`, as a token until apply. */
  get clientUrl(): string {
    return `wss://${this.service.outerSubDomain}/${this.environment}${this.path}`;
  }
}
