/**
 * Web mode's API Gateway side: a service, a WEBSOCKET API whose backend is the web function (SCF,
 * function type HTTP), and a release.
 *
 * Provider facts (terraform-provider-tencentcloud v1.82.97, apigateway/resource_tc_api_gateway_api.go):
 * for `service_config_type = "SCF"` Create and Update require all four of
 * `service_config_scf_function_{name,namespace,qualifier,type}` and send them, with
 * `ServiceScfIsIntegratedResponse` (false unless set) and `ServiceTimeout`; the nine WebSocket
 * binding fields are sent only for TSF and are not needed here: the gateway hands the socket itself
 * to the function. Read sets the name, namespace and qualifier back from `DescribeApi` but not the
 * function type, which DescribeApi does not return, so the declared type never drifts. `protocol`
 * and `service_id` force a new API. Whether `CreateApi` accepts this combination is unconfirmed.
 */
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { ApiGatewayApi } from '../.gen/providers/tencentcloud/api-gateway-api/index';
import { ApiGatewayServiceRelease } from '../.gen/providers/tencentcloud/api-gateway-service-release/index';
import { ApiGatewayService } from '../.gen/providers/tencentcloud/api-gateway-service/index';
import type { FunctionBinding } from './websocket-api';

/** The SCF function type of a web function's backend: `HTTP` (event functions are `EVENT`). */
export const WEB_SCF_FUNCTION_TYPE = 'HTTP';

export interface WebFunctionApiProps {
  /** What the service and API are for, in their descriptions. */
  readonly purpose: string;
  readonly serviceName: string;
  readonly apiName: string;
  readonly function: FunctionBinding;
  /** @default '/' */
  readonly path?: string;
  /** @default 'release' */
  readonly environment?: string;
  /** The API's backend timeout. @default 600 */
  readonly timeoutSeconds?: number;
  /** The function the API's backend names must exist first. */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Service + WEBSOCKET API on the web function + release. As in event mode the release resource is
 * created once and never replaced (that would unrelease first); later releases are the `release`
 * step's.
 */
export class WebFunctionApi extends Construct {
  readonly service: ApiGatewayService;
  readonly api: ApiGatewayApi;
  readonly release: ApiGatewayServiceRelease;
  readonly environment: string;
  readonly path: string;

  constructor(scope: Construct, id: string, props: WebFunctionApiProps) {
    super(scope, id);
    this.environment = props.environment ?? 'release';
    this.path = props.path ?? '/';
    this.service = new ApiGatewayService(this, 'service', {
      serviceName: props.serviceName,
      serviceDesc: `WebSocket ${props.purpose}`,
      protocol: 'http&https',
      netType: ['OUTER'],
    });
    this.api = new ApiGatewayApi(this, 'api', {
      serviceId: this.service.id,
      apiName: props.apiName,
      apiDesc: `WebSocket ${props.purpose}: a web function serves each connection`,
      authType: 'NONE',
      protocol: 'WEBSOCKET',
      requestConfigPath: this.path,
      requestConfigMethod: 'GET',
      serviceConfigType: 'SCF',
      serviceConfigScfFunctionName: props.function.name,
      serviceConfigScfFunctionNamespace: props.function.namespace,
      serviceConfigScfFunctionQualifier: props.function.qualifier ?? '$LATEST',
      serviceConfigScfFunctionType: WEB_SCF_FUNCTION_TYPE,
      serviceConfigTimeout: props.timeoutSeconds ?? 600,
      // The provider's default is true; a WebSocket API has no CORS.
      enableCors: false,
      dependsOn: props.dependsOn,
    });
    this.release = new ApiGatewayServiceRelease(this, 'release', {
      serviceId: this.service.id,
      environmentName: this.environment,
      releaseDesc: 'first release; later ones are made by the web function release step',
      dependsOn: [this.api],
    });
  }

  /** The client URL, `wss://<outer sub domain>/<environment><path>`, as a token until apply. */
  get clientUrl(): string {
    return `wss://${this.service.outerSubDomain}/${this.environment}${this.path}`;
  }
}
